# Copyright (c) mmcenternet contributors. All rights reserved.
from .checkpoint_io import CheckpointReadError, torch_load

__all__ = ['CheckpointReadError', 'torch_load']
