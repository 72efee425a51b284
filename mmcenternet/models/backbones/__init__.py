# Copyright (c) mmcenternet contributors. All rights reserved.
from .dla import DLA
from .hourglass import CenterNetHourglassNet

__all__ = ['DLA', 'CenterNetHourglassNet']
