# Copyright (c) mmcenternet contributors. All rights reserved.
"""Task-neutral pieces shared by the heads, TTA models and export decoders."""
from .exdet_grouping import group_extreme_points, quadruple_scores
from .flip import FLIP_RULES, merge_flip_maps, split_flip_batch
from .gaussian_target import (centernet_gaussian_radius, corrected_gaussian_radius,
                              draw_gaussians_, gaussian_kernel, radius_from_box_size)
from .geometry import map_points_to_image, project_to_image
from .precision import PRECISIONS, inference_precision_of, set_inference_precision
from .heatmap_ops import (flip_back, gather_feat, heatmap_nms, peak_cells, topk_per_channel,
                          topk_two_stage)
from .soft_nms import (SOFT_NMS_DEFAULTS, merge_detections, merge_multi_pose_outputs,
                       soft_nms_39_inplace, soft_nms_decay, soft_nms_inplace, soft_nms_settings,
                       top_k_cut)

__all__ = [
    'centernet_gaussian_radius', 'corrected_gaussian_radius', 'draw_gaussians_', 'gaussian_kernel', 'radius_from_box_size',
    'flip_back', 'gather_feat', 'heatmap_nms', 'topk_per_channel', 'topk_two_stage',
    'group_extreme_points', 'quadruple_scores', 'FLIP_RULES', 'merge_flip_maps',
    'split_flip_batch', 'map_points_to_image', 'project_to_image', 'SOFT_NMS_DEFAULTS',
    'merge_detections', 'merge_multi_pose_outputs', 'soft_nms_39_inplace', 'soft_nms_decay',
    'soft_nms_inplace', 'soft_nms_settings', 'top_k_cut', 'PRECISIONS', 'set_inference_precision',
    'inference_precision_of', 'peak_cells'
]
