# Copyright (c) mmcenternet contributors. All rights reserved.
from .coco_metric import CenterNetCocoMetric
from .coco_pose_metric import CenterNetCocoPoseMetric

__all__ = ['CenterNetCocoMetric', 'CenterNetCocoPoseMetric']
