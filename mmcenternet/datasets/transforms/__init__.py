# Copyright (c) mmcenternet contributors. All rights reserved.
from .test_transforms import CenterNetPad, CenterNetTestResize, record_homography

__all__ = ['CenterNetPad', 'CenterNetTestResize', 'record_homography']
