# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO box metric that writes results the way CenterNet's evaluation does."""
import json
from typing import Optional, Sequence

import numpy as np
from mmdet.evaluation import CocoMetric

from mmcenternet.registry import DET_METRICS


@DET_METRICS.register_module()
class CenterNetCocoMetric(CocoMetric):
    """mmdet's ``CocoMetric`` with CenterNet's result rounding.

    The original writes every box coordinate (``x, y, w, h``) and score rounded to two decimals
    before ``COCOeval``; rounding creates score ties that pycocotools breaks by record order, so
    the published AP is the AP of the rounded file. ``round_decimals=None`` evaluates the raw
    values (mmdet's behaviour).

    Args:
        round_decimals: Decimals kept in the results file (2 as the original, or ``None``).
        **kwargs: ``CocoMetric`` arguments.
    """

    def __init__(self, *args, round_decimals: Optional[int] = 2, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.round_decimals = round_decimals

    def results2json(self, results: Sequence[dict], outfile_prefix: str) -> dict:
        files = super().results2json(results, outfile_prefix)
        if self.round_decimals is not None and 'bbox' in files:
            with open(files['bbox']) as f:
                records = json.load(f)
            d = self.round_decimals
            for rec in records:
                rec['bbox'] = [float(f'{v:.{d}f}') for v in rec['bbox']]
                rec['score'] = float(f'{rec["score"]:.{d}f}')
            with open(files['bbox'], 'w') as f:
                json.dump(records, f)
        return files

    def xyxy2xywh(self, bbox: np.ndarray) -> list:
        # Width and height in float32 as the original computes them (before rounding).
        b = np.asarray(bbox, dtype=np.float32)
        return [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]
