# Copyright (c) mmcenternet contributors. All rights reserved.
"""Detection drawing for ``tools/test.py --show-dir``, the image demo and mmdet's inferencer."""
import math
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import InstanceData

from mmcenternet.registry import DET_VISUALIZERS
from .det_drawing import draw_detections


def ordered_corners(bboxes):
    """Return ``(min x, min y, max x, max y)`` boxes (tensor or array) without touching the input."""
    if isinstance(bboxes, torch.Tensor):
        x = torch.stack([bboxes[:, 0], bboxes[:, 2]], 1)
        y = torch.stack([bboxes[:, 1], bboxes[:, 3]], 1)
        return torch.stack([x.min(1).values, y.min(1).values, x.max(1).values, y.max(1).values],
                           1)
    b = np.asarray(bboxes)
    return np.stack([np.minimum(b[:, 0], b[:, 2]), np.minimum(b[:, 1], b[:, 3]),
                     np.maximum(b[:, 0], b[:, 2]), np.maximum(b[:, 1], b[:, 3])], 1)


def _as_array(value) -> np.ndarray:
    value = getattr(value, 'tensor', value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@DET_VISUALIZERS.register_module()
class CenterNetDetVisualizer(DetLocalVisualizer):
    """``DetLocalVisualizer`` drawing with :func:`~.det_drawing.draw_detections`.

    * One box per object: CenterNet often puts several classes on one peak; the best one is
      drawn (the predictions are not changed; text outputs list the others).
    * Labels sized to the picture and placed where they overlap no other label.
    * Ground truth beside the prediction when the sample has annotations (``gt_instances``);
      the prediction alone otherwise (mmdet would put an undrawn copy of the image beside it).
    * Pictures whose longer side is under ``min_draw_size`` are enlarged by a whole factor
      before drawing, so that labels on small images stay legible.
    * Boxes in either corner order and reaching past the image are drawn between their corner
      extremes and cut at the edge (CenterNet neither orders nor clips its boxes).

    Args:
        min_draw_size: Enlarge pictures until their longer side reaches this many pixels
            (0: never).
        **kwargs: ``DetLocalVisualizer`` arguments.
    """

    def __init__(self, name: str = 'visualizer', *args, min_draw_size: int = 480,
                 **kwargs) -> None:
        super().__init__(name, *args, **kwargs)
        self.min_draw_size = int(min_draw_size)

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       draw_gt: bool = True, *args, **kwargs) -> None:
        if data_sample is not None:
            # mmdet packs an empty gt_instances for unannotated images: no boxes, no panel
            if 'gt_instances' not in data_sample or 'bboxes' not in data_sample.gt_instances:
                draw_gt = False
            h, w = image.shape[:2]
            factor = math.ceil(self.min_draw_size / max(h, w)) if self.min_draw_size else 1
            if factor > 1:
                image = cv2.resize(image, (w * factor, h * factor),
                                   interpolation=cv2.INTER_LINEAR)
                data_sample = data_sample.clone()
                for key in ('gt_instances', 'pred_instances'):
                    if key in data_sample and 'bboxes' in data_sample.get(key):
                        inst = data_sample.get(key).clone()  # the caller's boxes stay as they are
                        boxes = getattr(inst.bboxes, 'tensor', inst.bboxes)
                        inst.bboxes = boxes * factor
                        setattr(data_sample, key, inst)
        super().add_datasample(name, image, data_sample, draw_gt, *args, **kwargs)

    def _draw_instances(self, image: np.ndarray, instances: InstanceData,
                        classes: Optional[List[str]],
                        palette: Optional[List[tuple]]) -> np.ndarray:
        if 'bboxes' not in instances:
            return super()._draw_instances(image, instances, classes, palette)
        is_gt = 'scores' not in instances
        boxes = _as_array(instances.bboxes).reshape(-1, 4)
        labels = _as_array(instances.labels) if 'labels' in instances else None
        scores = None if is_gt else _as_array(instances.scores)
        return draw_detections(image, boxes, scores, labels, score_thr=-1.0, classes=classes,
                               rgb=True, caption='ground truth' if is_gt else 'prediction')
