# Copyright (c) mmcenternet contributors. All rights reserved.
from .coco_metric import CenterNetCocoMetric

__all__ = ['CenterNetCocoMetric']
