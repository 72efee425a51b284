# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deprecated: the ``multi_pose`` modules now live in the package's layers (head and estimator in
``models``, dataset and transforms in ``datasets``, metric in ``evaluation``, drawing hook in
``visualization``; docs/architecture.md). Old imports keep working through this package."""
from mmcenternet.compat import allow_mmpose_without_torchvision
from mmcenternet.datasets import CenterNetCocoPoseDataset
from mmcenternet.datasets.transforms import COCO_FLIP_INDICES, CenterNetPoseRandomAffine
from mmcenternet.evaluation import CenterNetCocoPoseMetric
from mmcenternet.models import (CenterNetPoseEstimator, CenterNetPoseHead, CenterNetPoseTTAModel,
                                CenterNetPoseTargetGenerator)
from mmcenternet.models.task_modules.coders.pose_decode import (COCO_FLIP_PAIRS,
                                                                merge_flip_outputs,
                                                                multi_pose_decode)
from mmcenternet.models.utils.geometry import map_points_to_image
from mmcenternet.models.utils.soft_nms import merge_multi_pose_outputs, soft_nms_39_inplace
from mmcenternet.utils.deprecation import alias_modules
from mmcenternet.visualization import CenterNetPoseDrawHook

alias_modules(__name__, {
    'centernet_pose_head': 'mmcenternet.models.dense_heads.centernet_pose_head',
    'dataset': 'mmcenternet.datasets.centernet_coco_pose',
    'decode': 'mmcenternet.models.task_modules.coders.pose_decode',
    'draw_hook': 'mmcenternet.visualization.pose_draw_hook',
    'estimator': 'mmcenternet.models.pose_estimators.centernet_pose_estimator',
    'metric': 'mmcenternet.evaluation.coco_pose_metric',
    'mmpose_compat': 'mmcenternet.compat',
    'soft_nms_39': 'mmcenternet.models.utils.soft_nms',
    'targets': 'mmcenternet.models.task_modules.pose_targets',
    'transforms': 'mmcenternet.datasets.transforms.pose_transforms',
    'tta': 'mmcenternet.models.test_time_augs.centernet_pose_tta',
})

__all__ = [
    'allow_mmpose_without_torchvision', 'CenterNetPoseHead', 'CenterNetPoseDrawHook',
    'CenterNetCocoPoseDataset', 'COCO_FLIP_PAIRS', 'merge_flip_outputs', 'multi_pose_decode',
    'CenterNetPoseEstimator', 'map_points_to_image', 'CenterNetCocoPoseMetric',
    'CenterNetPoseTargetGenerator', 'COCO_FLIP_INDICES', 'CenterNetPoseRandomAffine',
    'merge_multi_pose_outputs', 'soft_nms_39_inplace', 'CenterNetPoseTTAModel'
]
