# Copyright (c) mmcenternet contributors. All rights reserved.
"""A small-class DLA-34 config for the model tests."""
import os.path as osp

from golden import REPO
from mmengine.config import Config


def small_dla_cfg():
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = 3
    return cfg
