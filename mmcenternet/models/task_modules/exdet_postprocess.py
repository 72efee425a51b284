# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original exdet test path after decoding: ``post_process`` (rows back to the image, the
mirrored view mirrored back) and ``merge_outputs`` (soft-NMS per class, global score cut)."""
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from ..utils.geometry import project_to_image
from ..utils.soft_nms import merge_detections

__all__ = ['exdet_post_process', 'exdet_merge']


def exdet_post_process(dets: Tensor, flipped: Optional[Tensor], out_w: int, stride: float,
                       meta: Optional[dict], halves_as_views: bool) -> np.ndarray:
    """The original ``post_process`` for one image (and its mirrored view).

    Args:
        dets: (N, 14) decoded rows of the image (output-map pixels).
        flipped: (N, 14) decoded rows of its mirrored input, or ``None``.
        out_w: Width of the output map.
        stride: Input pixels per output-map pixel.
        meta: Image meta (boxes are mapped back to the image), or ``None`` (input pixels).
        halves_as_views: Without a mirrored view, treat the second half of ``dets`` as the
            mirrored view (the original's quirk, ``'faithful'`` mode).

    Returns:
        (M, 6) float32 ``[x1, y1, x2, y2, score, label]``: the image's rows then the mirrored
        view's rows, boxes mirrored back with ``x' = W_out - x``.
    """
    if flipped is None and halves_as_views:
        half = dets.shape[0] - dets.shape[0] // 2
        dets, flipped = dets[:half], dets[half:]
    parts = [dets[:, [0, 1, 2, 3, 4, 13]]]
    if flipped is not None:
        mirrored = flipped[:, [2, 1, 0, 3, 4, 13]].clone()
        mirrored[:, 0] = out_w - mirrored[:, 0]
        mirrored[:, 2] = out_w - mirrored[:, 2]
        parts.append(mirrored)
    rows = torch.cat(parts, 0)
    boxes = rows[:, :4] * stride
    if meta is not None:
        boxes = project_to_image(boxes, meta)
    rows = torch.cat([boxes, rows[:, 4:]], 1)
    return rows.detach().float().cpu().numpy()


def exdet_merge(views: Sequence[np.ndarray], num_classes: int, soft_nms: dict,
                max_per_img: int):
    """The original ``merge_outputs``: concatenate the views' rows, keep positive scores,
    soft-NMS per class (always), global top-``max_per_img`` cut with ties kept.

    Args:
        views: (M_v, 6) ``[x1, y1, x2, y2, score, label]`` rows per view (scale), in order.
        num_classes: Number of classes.
        soft_nms: Complete soft-NMS settings
            (:func:`~mmcenternet.models.utils.soft_nms.soft_nms_settings`).
        max_per_img: Final detections.

    Returns:
        ``(boxes (K, 4), scores (K, ), labels (K, ))`` float32 / int64 arrays in class order.
    """
    cfg = soft_nms
    rows = np.concatenate([np.asarray(v, np.float32).reshape(-1, 6) for v in views], 0)
    rows = rows[rows[:, 4] > 0]
    labels = rows[:, 5].astype(np.int64)
    per_class = [rows[labels == c, :5] for c in range(num_classes)]
    merged = merge_detections([per_class], num_classes, True, max_per_img, sigma=cfg['sigma'],
                              nt=cfg['iou_threshold'], threshold=cfg['min_score'],
                              method=cfg['method'], mode=cfg['mode'])
    out = np.concatenate(merged, 0) if merged else np.zeros((0, 5), np.float32)
    lab = np.concatenate([np.full(len(m), c, np.int64) for c, m in enumerate(merged)]) \
        if merged else np.zeros(0, np.int64)
    return np.ascontiguousarray(out[:, :4]), np.ascontiguousarray(out[:, 4]), lab
