# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_bbox_coder import CenterNetBBoxCoder
from .centernet_exdet_coder import EXTREME_PARTS, CenterNetExdetDecoder
from .pose_decode import COCO_FLIP_PAIRS, multi_pose_decode, snap_joints

__all__ = [
    'CenterNetBBoxCoder', 'CenterNetExdetDecoder', 'EXTREME_PARTS', 'COCO_FLIP_PAIRS',
    'multi_pose_decode', 'snap_joints'
]
