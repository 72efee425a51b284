# Copyright (c) mmcenternet contributors. All rights reserved.
import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


@pytest.fixture(autouse=True)
def det_scope():
    """Run every test under mmdet's default scope unless it switches it itself."""
    import mmcenternet  # noqa: F401
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield
