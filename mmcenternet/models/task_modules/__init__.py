# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_targets import CenterNetTargetGenerator
from .coders import CenterNetBBoxCoder

__all__ = ['CenterNetBBoxCoder', 'CenterNetTargetGenerator']
