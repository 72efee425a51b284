# Copyright (c) mmcenternet contributors. All rights reserved.
"""Generated COCO-format datasets for the demo and the tests (shapes, polygons, stick figures)."""
from .keypoints import COCO_KEYPOINT_NAMES, COCO_SKELETON, make_stick_figures_dataset
from .shapes import (POLYGON_CLASSES, SHAPE_CLASSES, CocoSplitWriter, make_polygon_shapes_dataset,
                     make_shapes_dataset)

__all__ = [
    'COCO_KEYPOINT_NAMES', 'COCO_SKELETON', 'make_stick_figures_dataset', 'POLYGON_CLASSES',
    'SHAPE_CLASSES', 'CocoSplitWriter', 'make_polygon_shapes_dataset', 'make_shapes_dataset'
]
