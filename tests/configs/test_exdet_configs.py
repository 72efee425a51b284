# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exdet configs follow the original recipes."""
import os.path as osp

from golden import REPO
from mmengine.config import Config


def _cfg(name):
    return Config.fromfile(osp.join(REPO, 'configs', 'centernet_exdet', name))


def test_configs_follow_the_original_recipes():
    dla, hg = _cfg('dla34_coco.py'), _cfg('hourglass104_coco.py')
    for cfg, batch, gpus, epochs, steps, mask in ((dla, 64, 8, 140, [90, 120], 31),
                                                  (hg, 24, 4, 50, [40], 127)):
        assert cfg.model.bbox_head.type == 'CenterNetExdetHead'
        assert cfg.optim_wrapper.optimizer.lr == 2.5e-4
        assert cfg.auto_scale_lr.base_batch_size == batch
        assert cfg.train_dataloader.batch_size * gpus == batch
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.param_scheduler[0].milestones == steps
        assert cfg.test_dataloader.dataset.pipeline[1]['size_mask'] == mask
        aff = [t for t in cfg.train_dataloader.dataset.pipeline
               if t['type'] == 'CenterNetRandomAffine'][0]
        assert aff['mirror_center'] is False and aff['shift_style'] == 'exdet'
        assert cfg.train_dataloader.dataset.type == 'CenterNetExdetCocoDataset'
        assert cfg.model.test_cfg.topk == 100 and cfg.model.test_cfg.num_dets == 1000
        assert cfg.model.test_cfg.mode == 'faithful'
        assert cfg.tta_model.type == 'CenterNetTTAModel'
