# Copyright (c) mmcenternet contributors. All rights reserved.
"""Every detection config builds its model."""
import glob
import os.path as osp

import pytest
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config


DET_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', 'centernet', '*.py')) +
    glob.glob(osp.join(REPO, 'configs', 'centernet_pascal', '*.py')) + glob.glob(
        osp.join(REPO, 'configs', 'demo', '*.py')) if 'hourglass' not in p and 'pose' not in p)


@pytest.mark.parametrize('path', DET_CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.bbox_head.num_classes == cfg.model.bbox_head.num_classes
    assert 'tta_model' in cfg and 'tta_pipeline' in cfg
