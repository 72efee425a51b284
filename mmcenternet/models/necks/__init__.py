# Copyright (c) mmcenternet contributors. All rights reserved.
from .dla_up import DLAUpNeck, fill_bilinear_
from .resnet_dcn_neck import CenterNetResNetNeck

__all__ = ['DLAUpNeck', 'fill_bilinear_', 'CenterNetResNetNeck']
