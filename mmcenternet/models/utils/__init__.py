# Copyright (c) mmcenternet contributors. All rights reserved.
from .exdet_grouping import group_extreme_points, quadruple_scores
from .gaussian_target import (centernet_gaussian_radius, draw_gaussians_, gaussian_kernel,
                              radius_from_box_size)
from .heatmap_ops import flip_back, gather_feat, heatmap_nms, topk_per_channel, topk_two_stage

__all__ = [
    'centernet_gaussian_radius', 'draw_gaussians_', 'gaussian_kernel', 'radius_from_box_size',
    'flip_back', 'gather_feat', 'heatmap_nms', 'topk_per_channel', 'topk_two_stage',
    'group_extreme_points', 'quadruple_scores'
]
