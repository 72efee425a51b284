# Copyright (c) mmcenternet contributors. All rights reserved.
"""Export decoders: each task's decoding as a static graph (built by ``head.export_decoder()``)."""
from .base import PAD_SCORE, LastStackDecoder, topk_two_stage_fixed
from .ctdet_export_decoder import CtdetDecoder
from .exdet_export_decoder import EXDET_PAD_SCORE, ExdetDecoder
from .pose_export_decoder import MultiPoseDecoder

__all__ = [
    'PAD_SCORE', 'EXDET_PAD_SCORE', 'LastStackDecoder', 'topk_two_stage_fixed', 'CtdetDecoder',
    'ExdetDecoder', 'MultiPoseDecoder'
]
