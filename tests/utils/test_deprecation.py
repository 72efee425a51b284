# Copyright (c) mmcenternet contributors. All rights reserved.
"""Names of the earlier layout keep working: old module paths, old functions and settings."""
import importlib

import pytest

OLD_TO_NEW = [
    ('mmcenternet.pose.centernet_pose_head', 'CenterNetPoseHead',
     'mmcenternet.models.dense_heads.centernet_pose_head'),
    ('mmcenternet.pose.decode', 'multi_pose_decode',
     'mmcenternet.models.task_modules.coders.pose_decode'),
    ('mmcenternet.pose.estimator', 'map_points_to_image', 'mmcenternet.models.utils.geometry'),
    ('mmcenternet.pose.soft_nms_39', 'soft_nms_39_inplace', 'mmcenternet.models.utils.soft_nms'),
    ('mmcenternet.pose.transforms', 'CenterNetPoseRandomAffine',
     'mmcenternet.datasets.transforms.pose_transforms'),
    ('mmcenternet.pose.mmpose_compat', 'allow_mmpose_without_torchvision', 'mmcenternet.compat'),
    ('mmcenternet.tta.soft_nms', 'merge_detections', 'mmcenternet.models.utils.soft_nms'),
    ('mmcenternet.tta.centernet_tta', 'CenterNetTTAModel',
     'mmcenternet.models.test_time_augs.centernet_tta'),
    ('mmcenternet.deployment.decoders', 'CtdetDecoder', 'mmcenternet.models.export_decoders'),
    ('mmcenternet.deployment.exdet_decoder', 'ExdetDecoder',
     'mmcenternet.models.export_decoders.exdet_export_decoder'),
    ('mmcenternet.datasets.transforms.test_transforms', 'CenterNetPad',
     'mmcenternet.datasets.transforms.inference_transforms'),
    ('mmcenternet.utils.setup_run', 'UserError', 'mmcenternet.utils.errors'),
    ('mmcenternet.utils.setup_run', 'check_checkpoint_matches', 'mmcenternet.utils.config_checks'),
    ('mmcenternet.utils.synthetic_data', 'make_shapes_dataset',
     'mmcenternet.utils.synthetic.shapes'),
    ('mmcenternet.utils.synthetic_keypoints', 'make_stick_figures_dataset',
     'mmcenternet.utils.synthetic.keypoints'),
    ('mmcenternet.models.dense_heads', 'project_to_image', 'mmcenternet.models.utils.geometry'),
]


@pytest.mark.parametrize('old,name,new', OLD_TO_NEW)
def test_old_paths_give_the_same_objects(old, name, new):
    assert getattr(importlib.import_module(old), name) is \
        getattr(importlib.import_module(new), name)


def test_old_method_and_error_names():
    from mmcenternet.datasets import DatasetFormatError
    from mmcenternet.models.dense_heads import CenterNetDetHead, CenterNetExdetHead
    from mmcenternet.utils.errors import UserError
    assert CenterNetDetHead.loss_from_targets is CenterNetDetHead.loss_by_targets
    assert CenterNetExdetHead.loss_from_targets is CenterNetExdetHead.loss_by_targets
    assert issubclass(DatasetFormatError, UserError) and issubclass(DatasetFormatError, ValueError)


def test_old_merge_flip_still_merges():
    import torch

    from mmcenternet.tta import merge_flip
    maps = dict(hm=torch.rand(2, 1, 2, 3), wh=torch.rand(2, 2, 2, 3), reg=torch.rand(2, 2, 2, 3))
    out = merge_flip(maps, 1)
    assert torch.equal(out['hm'], (maps['hm'][:1] + maps['hm'][1:].flip(-1)) / 2)
    assert torch.equal(out['reg'], maps['reg'][:1])


def test_old_loss_argument_names_merge_into_the_new_ones():
    import warnings

    from mmcenternet.models.dense_heads import CenterNetDetHead, CenterNetPoseHead
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        det = CenterNetDetHead(num_classes=2, in_channels=4, head_conv=4,
                               loss_center_heatmap=dict(loss_weight=2.0))  # a partial override
        pose = CenterNetPoseHead(in_channels=4, num_keypoints=3, head_conv=4,
                                 loss_hm=dict(type='CenterNetFocalLoss', loss_weight=3.0))
    assert det.loss_heatmap.loss_weight == 2.0 and det.loss_center_heatmap is det.loss_heatmap
    assert pose.loss_heatmap.loss_weight == 3.0 and pose.loss_hm is pose.loss_heatmap
    assert sum('is deprecated; name the loss loss_heatmap' in str(w.message) for w in caught) == 2
