# Copyright (c) mmcenternet contributors. All rights reserved.
"""Soft-NMS exactly as CenterNet's compiled ``external/nms.pyx`` computes it, and the multi-scale
merge that uses it.

The original runs in place on a float32 array, keeps every row (it ignores its own ``keep``
list), and overwrites a discarded row with a *copy* of the current last row, so the array ends
with stale duplicates. Its variables are float32 (C ``float``), areas use the ``+1`` pixel
convention with the ``1`` a double literal (see :func:`soft_nms_decay`), and the Gaussian weight
is an ``exp`` in double rounded to float32. This module
reproduces those semantics step for step; :func:`merge_detections` with ``mode='corrected'``
offers a conventional soft-NMS (rows below the threshold removed) beside it.
"""
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ['soft_nms_inplace', 'soft_nms_decay', 'merge_detections', 'top_k_cut']

_METHODS = {'linear': 1, 'gaussian': 2, 'hard': 0, 1: 1, 2: 2, 0: 0}
_F = np.float32


def soft_nms_decay(box: np.ndarray, rows: np.ndarray, sigma: np.float32, nt: np.float32,
                   method: int) -> Tuple[np.ndarray, np.ndarray]:
    """Float32 score factor of every row against ``box``, and whether the two overlap at all
    (only overlapping rows are re-scored and threshold-tested by the original).

    The arithmetic is that of the compiled original: its variables are C ``float``, but the
    ``+ 1`` of the pixel convention is a C ``double`` literal in the generated code, so each
    side length ``(x2 - x1) + 1`` and everything computed from it within one statement is
    evaluated in double and rounded to float when stored: the areas, ``iw`` and ``ih``, and the
    union (whose ``iw * ih`` term is a float product). The IoU is a float division, the Gaussian
    factor an ``exp`` in double of the float exponent, rounded to float. This reproduces the
    original's scores bit for bit; plain float32 arithmetic is off by an ulp per decay.

    Args:
        box: (4, ) float32 ``[x1, y1, x2, y2]`` of the selected row.
        rows: (n, >=4) float32 rows to re-score.
        sigma, nt: Float32 Gaussian parameter and IoU threshold (linear / hard methods).
        method: 0 (hard), 1 (linear) or 2 (Gaussian).

    Returns:
        ``(factor, overlap)``: (n, ) float32 and (n, ) bool.
    """
    f64 = np.float64

    def side(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return (hi - lo).astype(f64) + 1.0  # float difference, double "+ 1.0"

    x1, y1, x2, y2 = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    area = (side(x2, x1) * side(y2, y1)).astype(np.float32)
    iw = side(np.minimum(box[2], x2), np.maximum(box[0], x1)).astype(np.float32)
    ih = side(np.minimum(box[3], y2), np.maximum(box[1], y1)).astype(np.float32)
    overlap = (iw > 0) & (ih > 0)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        inter = iw * ih  # float product
        union = (side(box[2:3], box[0:1]) * side(box[3:4], box[1:2]) + area.astype(f64) -
                 inter.astype(f64)).astype(np.float32)
        ov = inter / union
        if method == 1:
            factor = np.where(ov > nt, (1.0 - ov.astype(f64)).astype(np.float32), _F(1))
        elif method == 2:
            factor = np.exp((-(ov * ov) / sigma).astype(f64)).astype(np.float32)
        else:
            factor = np.where(ov > nt, _F(0), _F(1))
    return factor.astype(np.float32), overlap


def soft_nms_inplace(boxes: np.ndarray,
                     sigma: float = 0.5,
                     nt: float = 0.3,
                     threshold: float = 0.001,
                     method=0) -> List[int]:
    """CenterNet's ``soft_nms`` on ``boxes`` (N, >=5) float32 ``[x1, y1, x2, y2, score, ...]``.

    Only columns 0-4 are moved. ``boxes`` is modified in place exactly like the original (see
    the module docstring) and the original's return value ``[0 .. N_active - 1]`` is returned.

    Args:
        boxes: C-contiguous float32 array, modified in place.
        sigma: Gaussian parameter (0.5).
        nt: IoU threshold of the linear and hard methods (CenterNet passes 0.5).
        threshold: Rows whose decayed score falls below it are discarded.
        method: 0 / ``'hard'``, 1 / ``'linear'``, 2 / ``'gaussian'`` (CenterNet uses 2).
    """
    if boxes.dtype != np.float32:
        raise TypeError(f'soft_nms_inplace needs float32 rows, got {boxes.dtype}')
    method = _METHODS[method]
    sigma, nt, threshold = _F(sigma), _F(nt), _F(threshold)
    n = boxes.shape[0]
    for i in range(boxes.shape[0]):
        if i >= n:
            break  # the remaining iterations of the original loop change nothing
        maxpos = i + int(np.argmax(boxes[i:n, 4]))  # first maximum, like the strict '<' scan
        if maxpos != i:
            top = boxes[i, :5].copy()
            boxes[i, :5] = boxes[maxpos, :5]
            boxes[maxpos, :5] = top
        if i + 1 >= n:
            continue
        box = boxes[i, :4].copy()
        # Decay factors depend only on the row contents, so they can be computed up front for
        # every active row; the discard bookkeeping below then follows the original order.
        weights, overlaps = soft_nms_decay(box, boxes[i + 1:n], sigma, nt, method)
        pos = i + 1
        # ``source[p]``: which original row index currently sits at position p
        source = list(range(n))
        while pos < n:
            k = source[pos] - i - 1
            if overlaps[k]:
                score = _F(weights[k] * boxes[pos, 4])
                boxes[pos, 4] = score
                if score < threshold:
                    boxes[pos, :5] = boxes[n - 1, :5]
                    source[pos] = source[n - 1]
                    n -= 1
                    continue  # examine the moved row at the same position
            pos += 1
    return list(range(n))


def top_k_cut(scores: np.ndarray, max_per_img: int) -> float:
    """The original's final cut: the ``max_per_img``-th largest score (ties all kept)."""
    if len(scores) <= max_per_img:
        return -np.inf
    kth = len(scores) - max_per_img
    return float(np.partition(scores, kth)[kth])


def merge_detections(per_scale: Sequence[Sequence[np.ndarray]],
                     num_classes: int,
                     run_nms: bool,
                     max_per_img: int = 100,
                     sigma: float = 0.5,
                     nt: float = 0.5,
                     threshold: float = 0.001,
                     method='gaussian',
                     mode: str = 'faithful') -> List[np.ndarray]:
    """CenterNet's ``merge_outputs`` for ctdet.

    Args:
        per_scale: For each scale, ``num_classes`` float32 arrays (n, 5) ``[x1, y1, x2, y2,
            score]`` in image pixels, rows in decode order.
        num_classes: Number of classes.
        run_nms: Apply soft-NMS (the original does with more than one scale).
        max_per_img: Detections kept by the final score cut.
        sigma, nt, threshold, method: Soft-NMS parameters (CenterNet: 0.5, 0.5, 0.001, Gaussian).
        mode: ``'faithful'`` keeps the original's stale rows; ``'corrected'`` removes the rows
            soft-NMS discards.

    Returns:
        ``num_classes`` float32 arrays (m, 5), class order.
    """
    if mode not in ('faithful', 'corrected'):
        raise ValueError(f"mode must be 'faithful' or 'corrected', got {mode!r}")
    results = []
    for c in range(num_classes):
        rows = [scale[c] for scale in per_scale if len(scale[c])]
        arr = np.ascontiguousarray(np.concatenate(rows, 0) if rows else np.zeros((0, 5)),
                                   dtype=np.float32)
        if run_nms and len(arr):
            keep = soft_nms_inplace(arr, sigma=sigma, nt=nt, threshold=threshold, method=method)
            if mode == 'corrected':
                arr = arr[keep]
        results.append(arr)
    scores = np.concatenate([r[:, 4] for r in results]) if results else np.zeros(0)
    thresh = top_k_cut(scores, max_per_img)
    if np.isfinite(thresh):
        results = [r[r[:, 4] >= thresh] for r in results]
    return results
