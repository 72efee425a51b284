# Copyright (c) mmcenternet contributors. All rights reserved.
"""Soft-NMS exactly as CenterNet's compiled ``external/nms.pyx`` computes it (``soft_nms`` for
boxes, ``soft_nms_39`` for persons with joints), and the multi-scale merges that use it.

Task-neutral: the ctdet / exdet heads, the detection TTA model and the pose TTA model all call
this module; :data:`SOFT_NMS_DEFAULTS` is the one home of the original's settings.

The original runs in place on a float32 array, keeps every row (it ignores its own ``keep``
list), and overwrites a discarded row with a *copy* of the current last row, so the array ends
with stale duplicates. Its variables are float32 (C ``float``), areas use the ``+1`` pixel
convention with the ``1`` a double literal (see :func:`soft_nms_decay`), and the Gaussian weight
is an ``exp`` in double rounded to float32. This module
reproduces those semantics step for step; :func:`merge_detections` with ``mode='corrected'``
offers a conventional soft-NMS (rows below the threshold removed) beside it.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'SOFT_NMS_DEFAULTS', 'SOFT_NMS_MODES', 'soft_nms_settings', 'soft_nms_inplace',
    'soft_nms_39_inplace', 'soft_nms_decay', 'merge_detections', 'merge_multi_pose_outputs',
    'top_k_cut'
]

_METHODS = {'linear': 1, 'gaussian': 2, 'hard': 0, 1: 1, 2: 2, 0: 0}
_F = np.float32

#: The original's soft-NMS settings (``merge_outputs`` of every task): Gaussian decay with
#: sigma 0.5, rows below 0.001 discarded, IoU threshold 0.5 for the linear / hard methods;
#: ``mode`` ``'faithful'`` keeps the original's stale rows (see :func:`merge_detections`).
SOFT_NMS_DEFAULTS = dict(sigma=0.5, min_score=0.001, method='gaussian', iou_threshold=0.5,
                         mode='faithful')
SOFT_NMS_MODES = ('faithful', 'corrected')


def soft_nms_settings(overrides: Optional[dict] = None) -> dict:
    """:data:`SOFT_NMS_DEFAULTS` updated with ``overrides`` (a config's ``soft_nms``), checked."""
    cfg = dict(SOFT_NMS_DEFAULTS)
    cfg.update(overrides or {})
    unknown = sorted(set(cfg) - set(SOFT_NMS_DEFAULTS))
    if unknown:
        raise ValueError(f'soft_nms: unknown setting(s) {unknown}; known: '
                         f'{sorted(SOFT_NMS_DEFAULTS)}')
    if cfg['mode'] not in SOFT_NMS_MODES:
        raise ValueError(f"soft_nms.mode must be 'faithful' or 'corrected', got {cfg['mode']}")
    if cfg['method'] not in _METHODS:
        raise ValueError(f"soft_nms.method must be 'gaussian', 'linear' or 'hard', got "
                         f"{cfg['method']!r}")
    return cfg


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


def soft_nms_inplace(rows: np.ndarray,
                     sigma: float = 0.5,
                     nt: float = 0.3,
                     threshold: float = 0.001,
                     method=0,
                     payload: int = 0) -> List[int]:
    """CenterNet's ``soft_nms`` (``payload=0``) or ``soft_nms_39`` (``payload=2 * joints``) on
    ``rows`` (N, >=5 + payload) float32 ``[x1, y1, x2, y2, score, payload...]``, in place.

    The two compiled originals differ only in what happens to the columns after the score:

    * ``soft_nms`` (ctdet, exdet) moves columns 0-4 only; the rest of a row stays where it is.
    * ``soft_nms_39`` (multi_pose) moves the ``payload`` joint columns with the row when the best
      row is swapped to the front, but *swaps* them with the last active row when a row is
      discarded, while columns 0-4 are *copied* from it. The stale rows past the active range
      therefore mix the box of one person with the joints of another, as in the original.

    Args:
        rows: C-contiguous float32 array, modified in place.
        sigma: Gaussian parameter (0.5).
        nt: IoU threshold of the linear and hard methods (CenterNet passes 0.5).
        threshold: Rows whose decayed score falls below it are discarded.
        method: 0 / ``'hard'``, 1 / ``'linear'``, 2 / ``'gaussian'`` (CenterNet uses 2).
        payload: Columns after the score that travel with a row (``soft_nms_39``: 34).

    Returns:
        The original's return value ``[0 .. N_active - 1]`` (its callers ignore it).
    """
    if rows.dtype != np.float32:
        raise TypeError(f'soft-NMS needs float32 rows, got {rows.dtype}')
    if rows.ndim != 2 or rows.shape[1] < 5 + payload:
        raise TypeError(f'soft-NMS with {payload} payload columns needs (N, {5 + payload}) '
                        f'rows, got {rows.shape}')
    method = _METHODS[method]
    sigma, nt, threshold = _F(sigma), _F(nt), _F(threshold)
    moved = 5 + payload  # columns swapped when the best row comes to the front
    n = rows.shape[0]
    for i in range(rows.shape[0]):
        if i >= n:
            break  # the remaining iterations of the original loop change nothing
        best = i + int(np.argmax(rows[i:n, 4]))  # first maximum, like the strict '<' scan
        if best != i:
            top = rows[i, :moved].copy()
            rows[i, :moved] = rows[best, :moved]
            rows[best, :moved] = top
        if i + 1 >= n:
            continue
        # Decay factors depend only on the row contents, so they are computed up front for
        # every active row; the discard bookkeeping below then follows the original order.
        weights, overlaps = soft_nms_decay(rows[i, :4].copy(), rows[i + 1:n], sigma, nt, method)
        pos = i + 1
        # ``source[p]``: which original row index currently sits at position p
        source = list(range(n))
        while pos < n:
            k = source[pos] - i - 1
            if overlaps[k]:
                score = _F(weights[k] * rows[pos, 4])
                rows[pos, 4] = score
                if score < threshold:
                    last = n - 1
                    rows[pos, :5] = rows[last, :5]
                    if payload:
                        joints = rows[pos, 5:moved].copy()
                        rows[pos, 5:moved] = rows[last, 5:moved]
                        rows[last, 5:moved] = joints
                    source[pos] = source[last]
                    n -= 1
                    continue  # examine the moved row at the same position
            pos += 1
    return list(range(n))


def soft_nms_39_inplace(rows: np.ndarray,
                        sigma: float = 0.5,
                        nt: float = 0.3,
                        threshold: float = 0.001,
                        method=0) -> List[int]:
    """The original ``soft_nms_39``: :func:`soft_nms_inplace` on person rows whose joint
    columns (all columns after the score) travel with the row."""
    if rows.dtype != np.float32 or rows.ndim != 2 or rows.shape[1] < 7:
        raise TypeError(f'soft_nms_39 needs float32 (N, 5 + 2J) rows, got {rows.dtype} '
                        f'{getattr(rows, "shape", None)}')
    return soft_nms_inplace(rows, sigma, nt, threshold, method, payload=rows.shape[1] - 5)


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


def merge_multi_pose_outputs(per_scale: Sequence[np.ndarray], run_nms: bool, sigma: float = 0.5,
                             nt: float = 0.5, threshold: float = 0.001,
                             method='gaussian') -> np.ndarray:
    """The original ``MultiPoseDetector.merge_outputs``.

    Args:
        per_scale: For each test scale, (n, 5 + 2J) person rows in image pixels, decode order
            (J = 17 in the original, whose rows have 39 columns).
        run_nms: Apply ``soft_nms_39`` (the original does with several scales or ``--nms``).

    Returns:
        All rows, concatenated in scale order, after the in-place soft-NMS (stale rows kept,
        no score cut, as the original).
    """
    arrays = [np.asarray(p, dtype=np.float32) for p in per_scale]
    width = next((a.shape[-1] for a in arrays if a.ndim == 2), 39)
    parts = [a.reshape(-1, width) for a in arrays]
    rows = np.ascontiguousarray(np.concatenate(parts, 0) if parts else np.zeros((0, width)),
                                dtype=np.float32)
    if run_nms and len(rows):
        soft_nms_39_inplace(rows, sigma=sigma, nt=nt, threshold=threshold, method=method)
    return rows
