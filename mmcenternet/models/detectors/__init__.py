# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_detector import CenterNetDetector

__all__ = ['CenterNetDetector']
