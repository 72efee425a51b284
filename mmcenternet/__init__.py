# Copyright (c) mmcenternet contributors. All rights reserved.
"""mmcenternet: CenterNet ("Objects as Points") as an MMDetection / MMPose plugin.

Importing the package (``custom_imports=dict(imports=['mmcenternet'])`` in a config) registers
every module in mmdet's and mmpose's registries and applies the compatibility patches of
:mod:`mmcenternet.compat` (the only place that changes other packages' behaviour).

Layers, each importing only those before it (docs/architecture.md): ``utils`` -> root modules
(``registry``, ``compat``) -> ``ops`` -> ``models`` -> ``datasets``, ``evaluation``,
``visualization`` -> ``apis`` -> ``deployment``.
"""
from . import compat
from .version import __version__

compat.apply()

from . import utils  # noqa: E402,F401
from . import ops  # noqa: E402,F401  (registers the DCNv2Fast conv layer)
from . import models  # noqa: E402,F401
from . import datasets, evaluation, visualization  # noqa: E402,F401
from . import deployment  # noqa: E402,F401  (registers the onnxruntime backend; onnx is optional)

__all__ = ['__version__']
