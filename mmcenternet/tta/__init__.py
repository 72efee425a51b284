# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_tta import CenterNetTTAModel, merge_flip
from .soft_nms import merge_detections, soft_nms_decay, soft_nms_inplace, top_k_cut

__all__ = [
    'CenterNetTTAModel', 'merge_flip', 'merge_detections', 'soft_nms_decay', 'soft_nms_inplace',
    'top_k_cut'
]
