# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_bbox_coder import CenterNetBBoxCoder

__all__ = ['CenterNetBBoxCoder']
