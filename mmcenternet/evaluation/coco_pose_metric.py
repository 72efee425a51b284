# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO keypoint metric that writes results the way CenterNet's ``COCOHP`` evaluation does."""
from typing import Dict, Optional

import numpy as np
from mmengine.fileio import dump
from mmpose.evaluation.metrics import CocoMetric

from mmcenternet.registry import POSE_METRICS

__all__ = ['CenterNetCocoPoseMetric']


@POSE_METRICS.register_module()
class CenterNetCocoPoseMetric(CocoMetric):
    """mmpose's ``CocoMetric`` (keypoint AP) with the original's results file.

    The original writes, per person, ``bbox`` as ``[x, y, w, h]`` (``w = x2 - x1`` in double from
    float32 corners), ``score`` and the 17 ``(x, y, 1)`` keypoints, every number rounded to two
    decimals, in decode order (descending score) per image. Rounding creates score ties that
    COCOeval breaks by record order, and the box decides the detection area; the published AP
    is the AP of that file. With ``round_decimals=None`` the values are written unrounded and
    the third keypoint value is the predicted keypoint score (mmpose's behaviour).

    Use it with ``score_mode='bbox'`` (person score = centre score) and ``nms_mode='none'``,
    as the original evaluates all 100 decoded persons per image.

    Args:
        round_decimals: Decimals kept in the results file (2 as the original, or ``None``).
        **kwargs: ``CocoMetric`` arguments.
    """

    def __init__(self, *args, round_decimals: Optional[int] = 2, **kwargs) -> None:
        kwargs.setdefault('score_mode', 'bbox')
        kwargs.setdefault('nms_mode', 'none')
        super().__init__(*args, **kwargs)
        self.round_decimals = round_decimals

    def process(self, data_batch, data_samples) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        for (pred, _), sample in zip(self.results[start:], data_samples):
            boxes = sample['pred_instances'].get('bboxes')
            if boxes is not None:
                # widths / heights in double from the (float32) corners, as the original
                b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
                pred['bbox'] = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]],
                                        axis=1)

    def results2json(self, keypoints: Dict[int, list], outfile_prefix: str) -> str:
        if self.round_decimals is None:
            return super().results2json(keypoints, outfile_prefix)
        d = self.round_decimals

        def rnd(v) -> float:
            return float(f'{float(v):.{d}f}')

        records = []
        for img_kpts in keypoints.values():
            for inst in img_kpts:
                kps = np.asarray(inst['keypoints'])[..., :2].reshape(-1, 2)
                flat = []
                for x, y in kps:
                    flat.extend([rnd(x), rnd(y), 1.0])
                rec = dict(image_id=int(inst['img_id']), category_id=int(np.asarray(
                    inst['category_id']).reshape(-1)[0]), keypoints=flat, score=rnd(inst['score']))
                if 'bbox' in inst:
                    rec['bbox'] = [rnd(v) for v in np.asarray(inst['bbox']).reshape(-1)]
                records.append(rec)
        res_file = f'{outfile_prefix}.keypoints.json'
        dump(records, res_file, sort_keys=True, indent=4)
        return res_file
