# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_focal_loss import CenterNetFocalLoss, centernet_focal_loss, clamped_sigmoid
from .option_losses import CenterNetDenseL1Loss, CenterNetMSELoss, CenterNetRegSmoothL1Loss
from .reg_l1_loss import CenterNetRegL1Loss, reg_l1_loss

__all__ = [
    'CenterNetFocalLoss', 'centernet_focal_loss', 'clamped_sigmoid', 'CenterNetRegL1Loss',
    'reg_l1_loss', 'CenterNetMSELoss', 'CenterNetRegSmoothL1Loss', 'CenterNetDenseL1Loss'
]
