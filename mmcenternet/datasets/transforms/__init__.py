# Copyright (c) mmcenternet contributors. All rights reserved.
from .affine import affine_transform, get_affine_transform, get_border, warp_image
from .exdet_transforms import LoadExtremePoints, PackExdetInputs
from .test_transforms import CenterNetPad, CenterNetTestResize, record_homography
from .train_transforms import (EIG_VAL, EIG_VEC, CenterNetColorAug, CenterNetRandomAffine,
                               color_augment_)

__all__ = [
    'affine_transform', 'get_affine_transform', 'get_border', 'warp_image', 'CenterNetPad',
    'CenterNetTestResize', 'record_homography', 'CenterNetColorAug', 'CenterNetRandomAffine',
    'color_augment_', 'EIG_VAL', 'EIG_VEC', 'LoadExtremePoints', 'PackExdetInputs'
]
