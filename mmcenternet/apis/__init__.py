# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference functions (mmdet's ``init_detector`` / ``inference_detector`` / ``DetInferencer``
work with mmcenternet detection configs as they are; see :mod:`mmcenternet.apis.inference`)."""
from .inference import StagedDetector, load_detector, sync_device, array_test_pipeline

__all__ = ['StagedDetector', 'load_detector', 'sync_device', 'array_test_pipeline']
