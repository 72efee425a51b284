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


# The folders whose files take longest (end-to-end training and tool runs, minutes each) are
# collected first: `make test` hands whole files to its workers (pytest-xdist, --dist loadfile)
# in collection order, and a long file handed out last would leave the other workers idle.
_LONG_FIRST = ('tests/integration/learning/', 'tests/integration/tools/',
               'tests/integration/e2e/')


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((i for i, folder in enumerate(_LONG_FIRST)
                     if item.nodeid.startswith(folder)), len(_LONG_FIRST))
    items.sort(key=rank)  # stable: the order within a rank is pytest's
