# Copyright (c) mmcenternet contributors. All rights reserved.
"""What the Hourglass-104 tests share: its config and model (module fixtures)."""
import os.path as osp

import pytest
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config


CONFIG = osp.join(REPO, 'configs', 'centernet', 'hourglass104_coco.py')


HEADS = ('hm', 'wh', 'reg')


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(CONFIG)


@pytest.fixture(scope='module')
def hg_model(cfg):
    """The config's model (built once: HG-104 has 191 M parameters)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg.model).eval()
