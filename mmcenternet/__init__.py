# Copyright (c) mmcenternet contributors. All rights reserved.
"""mmcenternet: CenterNet ("Objects as Points") as an MMDetection / MMPose plugin.

Importing the package (``custom_imports=dict(imports=['mmcenternet'])`` in a config) registers
every module in mmdet's and mmpose's registries and makes checkpoint reading and writing work
with mmengine 0.10.7 on current torch (see :mod:`mmcenternet.utils.checkpoint_io`).
"""
from .version import __version__
from . import utils  # noqa: F401  (checkpoint I/O first: it patches mmengine's loaders)
from . import datasets, evaluation, models, tta, visualization  # noqa: F401,E402
from . import pose  # noqa: F401,E402

__all__ = ['__version__']
