# Copyright (c) mmcenternet contributors. All rights reserved.
"""The CenterNet detector (backbone -> up-sampling neck -> per-stack head)."""
from mmdet.models.detectors.single_stage import SingleStageDetector

from mmcenternet.registry import DET_MODELS


@DET_MODELS.register_module()
class CenterNetDetector(SingleStageDetector):
    """CenterNet ``ctdet`` / ``exdet`` detector.

    The behaviour is mmdet's single-stage detector: ``extract_feat`` returns one map per stack
    (the neck's output, or the backbone's for Hourglass), the head does the rest.
    ``model(inputs, mode='tensor')`` returns the head's raw maps in the original's order
    (per stack: heatmap logits, then the regression maps).
    """
