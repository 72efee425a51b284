# Copyright (c) mmcenternet contributors. All rights reserved.
from mmcenternet.utils.errors import DatasetFormatError
from .centernet_coco import CenterNetCocoDataset
from .centernet_coco_pose import CenterNetCocoPoseDataset
from .centernet_exdet_coco import CenterNetExdetCocoDataset
from .centernet_voc import CenterNetVOCDataset
from .ground_truth import coco_boxes_by_file, coco_keypoints_by_file
from .extreme_points import (ExtremePointsError, extreme_points_from_mask,
                             extreme_points_from_polygons, extreme_points_from_segmentation,
                             extremenet_band_points)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'CenterNetCocoDataset', 'CenterNetCocoPoseDataset', 'DatasetFormatError',
    'CenterNetExdetCocoDataset', 'CenterNetVOCDataset', 'coco_boxes_by_file',
    'coco_keypoints_by_file',
    'ExtremePointsError', 'extreme_points_from_mask',
    'extreme_points_from_polygons', 'extreme_points_from_segmentation', 'extremenet_band_points'
]
