# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_bbox_coder import CenterNetBBoxCoder
from .exdet_decoder import EXTREME_PARTS, CenterNetExdetDecoder

__all__ = ['CenterNetBBoxCoder', 'CenterNetExdetDecoder', 'EXTREME_PARTS']
