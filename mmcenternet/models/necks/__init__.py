# Copyright (c) mmcenternet contributors. All rights reserved.
from .dla_up import DLAUpNeck, fill_bilinear_

__all__ = ['DLAUpNeck', 'fill_bilinear_']
