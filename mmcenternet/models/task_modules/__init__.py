# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_targets import CenterNetTargetGenerator
from .coders import CenterNetBBoxCoder, CenterNetExdetDecoder
from .exdet_targets import CenterNetExdetTargetGenerator
from .pose_targets import CenterNetPoseTargetGenerator

__all__ = [
    'CenterNetBBoxCoder', 'CenterNetTargetGenerator', 'CenterNetExdetDecoder',
    'CenterNetExdetTargetGenerator', 'CenterNetPoseTargetGenerator'
]
