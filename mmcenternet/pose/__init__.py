# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet multi-person pose estimation (the original ``multi_pose`` task) as mmpose modules."""
from .mmpose_compat import allow_mmpose_without_torchvision
from .centernet_pose_head import CenterNetPoseHead
from .dataset import CenterNetCocoPoseDataset
from .draw_hook import CenterNetPoseDrawHook
from .decode import COCO_FLIP_PAIRS, merge_flip_outputs, multi_pose_decode
from .estimator import CenterNetPoseEstimator, map_points_to_image
from .metric import CenterNetCocoPoseMetric
from .soft_nms_39 import merge_multi_pose_outputs, soft_nms_39_inplace
from .targets import CenterNetPoseTargetGenerator
from .transforms import COCO_FLIP_INDICES, CenterNetPoseRandomAffine
from .tta import CenterNetPoseTTAModel

allow_mmpose_without_torchvision()

__all__ = [
    'allow_mmpose_without_torchvision',
    'CenterNetPoseHead', 'CenterNetPoseDrawHook',
    'CenterNetCocoPoseDataset', 'COCO_FLIP_PAIRS', 'merge_flip_outputs', 'multi_pose_decode',
    'CenterNetPoseEstimator', 'map_points_to_image', 'CenterNetCocoPoseMetric',
    'CenterNetPoseTargetGenerator', 'COCO_FLIP_INDICES', 'CenterNetPoseRandomAffine',
    'merge_multi_pose_outputs', 'soft_nms_39_inplace', 'CenterNetPoseTTAModel'
]
