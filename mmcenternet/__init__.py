# Copyright (c) mmcenternet contributors. All rights reserved.
"""mmcenternet: CenterNet ("Objects as Points") as an MMDetection / MMPose plugin.

Importing the package (``custom_imports=dict(imports=['mmcenternet'])`` in a config) registers
every module in mmdet's and mmpose's registries and makes checkpoint reading and writing work
with mmengine 0.10.7 on current torch (see :mod:`mmcenternet.utils.checkpoint_io`).
"""
import warnings

# mmengine 0.10.7 imports pkg_resources, whose deprecation notice would precede every tool's
# output; the pinned setuptools (< 82) still provides it.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from .version import __version__  # noqa: E402
from . import utils  # noqa: F401  (checkpoint I/O first: it patches mmengine's loaders)
from . import ops  # noqa: F401,E402  (registers the DCNv2Fast conv layer)
from . import datasets, evaluation, models, tta, visualization  # noqa: F401,E402
from . import pose  # noqa: F401,E402

__all__ = ['__version__']
