# Copyright (c) mmcenternet contributors. All rights reserved.
"""Helpers by concern: error types (``errors``), command-line glue (``cli``, ``config_checks``,
``distributed``), checkpoint files (``checkpoint_io``, ``convert_official``), the generated
datasets of the demo and the tests (``synthetic``), dataset checks (``dataset_check``).

The bottom of the package: nothing here imports another mmcenternet package.
"""
from .checkpoint_io import torch_load
from .deprecation import alias_modules
from .errors import CheckpointReadError, DatasetFormatError, UserError

alias_modules(__name__, {
    'synthetic_data': 'mmcenternet.utils.synthetic.shapes',
    'synthetic_keypoints': 'mmcenternet.utils.synthetic.keypoints',
})

__all__ = ['CheckpointReadError', 'DatasetFormatError', 'UserError', 'torch_load']
