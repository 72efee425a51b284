# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_focal_loss import CenterNetFocalLoss, centernet_focal_loss, clamped_sigmoid
from .reg_l1_loss import CenterNetRegL1Loss, reg_l1_loss

__all__ = [
    'CenterNetFocalLoss', 'centernet_focal_loss', 'clamped_sigmoid', 'CenterNetRegL1Loss',
    'reg_l1_loss'
]
