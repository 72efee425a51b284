# Copyright (c) mmcenternet contributors. All rights reserved.
"""The multi_pose Hourglass-104 configs follow the original recipes (multi_pose_hg_1x / 3x)."""
import os.path as osp

import pytest
from mmengine.config import Config
from golden import REPO


CONFIGS = {
    '1x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_1x_coco.py'),
    '3x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_3x_coco.py'),
}


@pytest.mark.parametrize('name, epochs, milestones', [('1x', 50, [40]), ('3x', 150, [130])])
def test_config_is_the_original_recipe(name, epochs, milestones):
    cfg = Config.fromfile(CONFIGS[name])
    assert cfg.train_cfg.max_epochs == epochs
    assert [(s.type, s.milestones, s.gamma) for s in cfg.param_scheduler] == [
        ('MultiStepLR', milestones, 0.1)]
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 2.5e-4, 0)
    assert cfg.auto_scale_lr.base_batch_size == 24 and cfg.train_dataloader.batch_size == 6
    # initialised from the converted ctdet hourglass model, as the original recipe
    assert cfg.load_from == 'checkpoints/hourglass104_coco.pth'
    # keep_res test on a canvas of multiples of 128, flip test by default
    for pipeline in (cfg.val_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        assert [t['size_mask'] for t in pipeline if t['type'] == 'CenterNetPad'] == [127]
    assert cfg.model.data_preprocessor.pad_size_divisor == 128
    assert cfg.model.test_cfg.flip_test is True
    # multi-scale test (--tta): the original's scales, every view padded to multiples of 128
    assert cfg.tta_model.type == 'CenterNetPoseTTAModel'
    tta = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug'][0]
    assert [t['scale'] for t in tta['transforms'][0]] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert [t['size_mask'] for t in tta['transforms'][1]] == [127]
    affine = cfg.train_dataloader.dataset.pipeline[1]
    assert affine['type'] == 'CenterNetPoseRandomAffine' and affine['input_size'] == (512, 512)
