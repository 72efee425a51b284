# Copyright (c) mmcenternet contributors. All rights reserved.
from .modulated_deform_conv import (DCN_IMPLS, FastModulatedDeformConv2dPack, choose_impl,
                                    mmcv_has_cuda_ops, modulated_deform_conv2d_fast,
                                    sampling_table, tap_projection, unsupported_reason)

__all__ = [
    'DCN_IMPLS', 'FastModulatedDeformConv2dPack', 'choose_impl', 'mmcv_has_cuda_ops',
    'modulated_deform_conv2d_fast', 'sampling_table', 'tap_projection', 'unsupported_reason'
]
