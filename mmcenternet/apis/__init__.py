# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference functions (mmdet's ``init_detector`` / ``inference_detector`` / ``DetInferencer``
work with mmcenternet detection configs as they are; see :mod:`mmcenternet.apis.inference`;
pose configs: :mod:`mmcenternet.apis.pose_inference`)."""
from .inference import StagedDetector, array_test_pipeline, load_detector, sync_device
from .pose_inference import draw_pose, inference_pose, load_pose_estimator

__all__ = [
    'StagedDetector', 'load_detector', 'sync_device', 'array_test_pipeline', 'load_pose_estimator',
    'inference_pose', 'draw_pose'
]
