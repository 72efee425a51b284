# Copyright (c) mmcenternet contributors. All rights reserved.
from mmcenternet.utils.deprecation import alias_modules
from .affine import affine_transform, get_affine_transform, get_border, warp_image
from .exdet_transforms import LoadExtremePoints, PackExdetInputs
from .inference_transforms import (CenterNetFixRes, CenterNetPad, CenterNetTestResize,
                                   record_homography)
from .pose_transforms import COCO_FLIP_INDICES, CenterNetPoseRandomAffine
from .train_transforms import (EIG_VAL, EIG_VEC, CenterNetColorAug, CenterNetRandomAffine,
                               color_augment_)

alias_modules(__name__, {'test_transforms': 'mmcenternet.datasets.transforms.inference_transforms'})

__all__ = [
    'affine_transform', 'get_affine_transform', 'get_border', 'warp_image', 'CenterNetPad',
    'CenterNetTestResize', 'CenterNetFixRes', 'record_homography', 'CenterNetColorAug',
    'CenterNetRandomAffine', 'color_augment_', 'EIG_VAL', 'EIG_VEC', 'LoadExtremePoints',
    'PackExdetInputs', 'COCO_FLIP_INDICES', 'CenterNetPoseRandomAffine'
]
