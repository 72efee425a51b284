# Copyright (c) mmcenternet contributors. All rights reserved.
"""A randomly initialised CenterNet detector for the reduced-precision tests."""
import os.path as osp

import torch
from golden import REPO
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope


def build_detector(config: str = 'configs/centernet/resdcn18_1x_coco.py', seed: int = 0):
    """The detector of ``config`` (relative to the repository), no pretrained backbone, seeded
    initialisation, in eval mode."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(seed)
    return MODELS.build(cfg.model).eval()
