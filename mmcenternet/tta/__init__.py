# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deprecated: test-time augmentation now lives in :mod:`mmcenternet.models.test_time_augs` and
soft-NMS in :mod:`mmcenternet.models.utils.soft_nms`. Old imports keep working through here."""
from mmcenternet.models.test_time_augs import CenterNetTTAModel
from mmcenternet.models.test_time_augs.centernet_tta import merge_flip
from mmcenternet.models.utils.soft_nms import (merge_detections, soft_nms_decay, soft_nms_inplace,
                                               top_k_cut)
from mmcenternet.utils.deprecation import alias_modules

alias_modules(__name__, {
    'centernet_tta': 'mmcenternet.models.test_time_augs.centernet_tta',
    'soft_nms': 'mmcenternet.models.utils.soft_nms',
})

__all__ = [
    'CenterNetTTAModel', 'merge_flip', 'merge_detections', 'soft_nms_decay', 'soft_nms_inplace',
    'top_k_cut'
]
