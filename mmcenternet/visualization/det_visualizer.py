# Copyright (c) mmcenternet contributors. All rights reserved.
"""Detection drawing that copes with CenterNet's unordered boxes."""
from typing import List, Optional

import numpy as np
import torch
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import InstanceData

from mmcenternet.registry import DET_VISUALIZERS


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


@DET_VISUALIZERS.register_module()
class CenterNetDetVisualizer(DetLocalVisualizer):
    """``DetLocalVisualizer`` that draws boxes whose corners are in either order.

    CenterNet neither clips nor orders predicted boxes (an untrained or unusual model predicts
    ``x2 < x1`` and boxes reaching past the image), while mmengine's drawing asserts ordered
    corners and enlarges the canvas for boxes outside it. Only a drawing copy is ordered and cut
    at the image edge; the predictions themselves are left as they are.
    """

    def _draw_instances(self, image: np.ndarray, instances: InstanceData,
                        classes: Optional[List[str]],
                        palette: Optional[List[tuple]]) -> np.ndarray:
        if 'bboxes' in instances and len(instances) > 0:
            drawn = instances.clone()
            boxes = drawn.bboxes
            boxes = getattr(boxes, 'tensor', boxes)
            boxes = ordered_corners(boxes)
            h, w = image.shape[:2]
            if isinstance(boxes, torch.Tensor):
                boxes = boxes.clone()
                boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w - 1)
                boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h - 1)
            else:
                boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w - 1)
                boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h - 1)
            drawn.bboxes = boxes
            instances = drawn
        return super()._draw_instances(image, instances, classes, palette)
