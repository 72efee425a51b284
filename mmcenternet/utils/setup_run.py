# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deprecated: the contents of this module now live in :mod:`mmcenternet.utils.cli`,
:mod:`mmcenternet.utils.config_checks`, :mod:`mmcenternet.utils.distributed` and
:mod:`mmcenternet.utils.errors`; the old names stay importable from here."""
from .cli import is_pose_config, load_config, run_cli, set_local_rank  # noqa: F401
from .config_checks import (check_checkpoint_matches, check_data_paths,  # noqa: F401
                            check_registered_types, check_stride_matches, config_classes)
from .distributed import finish_distributed, setup_cpu_distributed  # noqa: F401
from .errors import CheckpointReadError, DatasetFormatError, UserError  # noqa: F401

__all__ = [
    'UserError', 'run_cli', 'load_config', 'check_registered_types', 'check_data_paths',
    'check_checkpoint_matches', 'setup_cpu_distributed', 'finish_distributed', 'is_pose_config'
]
