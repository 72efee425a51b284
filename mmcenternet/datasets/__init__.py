# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_coco import CenterNetCocoDataset, DatasetFormatError
from .transforms import *  # noqa: F401,F403

__all__ = ['CenterNetCocoDataset', 'DatasetFormatError']
