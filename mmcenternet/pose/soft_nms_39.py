# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's ``soft_nms_39`` (soft-NMS on person rows carrying 17 joints) and the
``multi_pose`` merge of several test scales that uses it.

Rows are ``[x1, y1, x2, y2, score, x_0, y_0, ..., x_16, y_16]`` (float32, 39 columns). The
algorithm is the one of ``soft_nms`` (:mod:`mmcenternet.tta.soft_nms`: in place, the same
score decay, ``+1`` areas, return value ignored by the caller) with the original's handling of the
joint columns 5..38: moved with the row when the best row is swapped to the front, but *swapped*
with the last active row when a row is discarded, while columns 0..4 are *copied* from it. The
stale rows past the active range therefore mix the box of one person with the joints of another,
and the original keeps them in its results.
"""
from typing import List, Sequence

import numpy as np

from mmcenternet.tta.soft_nms import soft_nms_decay

__all__ = ['soft_nms_39_inplace', 'merge_multi_pose_outputs']

_F = np.float32
_METHODS = {'hard': 0, 'linear': 1, 'gaussian': 2, 0: 0, 1: 1, 2: 2}


def soft_nms_39_inplace(rows: np.ndarray,
                        sigma: float = 0.5,
                        nt: float = 0.3,
                        threshold: float = 0.001,
                        method=0) -> List[int]:
    """Run the original ``soft_nms_39`` on ``rows`` in place.

    Args:
        rows: C-contiguous float32 (N, 39) array, modified in place.
        sigma: Gaussian parameter.
        nt: IoU threshold of the linear and hard methods (CenterNet passes 0.5).
        threshold: Rows whose decayed score falls below it leave the active range.
        method: 0 / ``'hard'``, 1 / ``'linear'``, 2 / ``'gaussian'`` (CenterNet uses 2).

    Returns:
        The original's return value ``[0, ..., N_active - 1]`` (CenterNet ignores it).
    """
    if rows.dtype != np.float32 or rows.ndim != 2 or rows.shape[1] < 39:
        raise TypeError(f'soft_nms_39 needs float32 (N, 39) rows, got {rows.dtype} {rows.shape}')
    method = _METHODS[method]
    sigma, nt, threshold = _F(sigma), _F(nt), _F(threshold)
    n = rows.shape[0]
    for i in range(rows.shape[0]):
        if i >= n:
            break  # later iterations of the original loop change nothing
        best = i + int(np.argmax(rows[i:n, 4]))  # first maximum
        if best != i:
            top = rows[i, :39].copy()
            rows[i, :39] = rows[best, :39]
            rows[best, :39] = top
        if i + 1 >= n:
            continue
        # Factors depend only on a row's box, so they are computed once per row of the active
        # range; ``origin[p]`` tells which of those rows currently sits at position p.
        factor, overlap = soft_nms_decay(rows[i, :4].copy(), rows[i + 1:n], sigma, nt, method)
        origin = list(range(n))
        pos = i + 1
        while pos < n:
            k = origin[pos] - i - 1
            if overlap[k]:
                score = _F(factor[k] * rows[pos, 4])
                rows[pos, 4] = score
                if score < threshold:
                    last = n - 1
                    rows[pos, :5] = rows[last, :5]
                    joints = rows[pos, 5:39].copy()
                    rows[pos, 5:39] = rows[last, 5:39]
                    rows[last, 5:39] = joints
                    origin[pos] = origin[last]
                    n -= 1
                    continue  # the moved row is examined at the same position
            pos += 1
    return list(range(n))


def merge_multi_pose_outputs(per_scale: Sequence[np.ndarray], run_nms: bool, sigma: float = 0.5,
                             nt: float = 0.5, threshold: float = 0.001,
                             method='gaussian') -> np.ndarray:
    """The original ``MultiPoseDetector.merge_outputs``.

    Args:
        per_scale: For each test scale, (n, 39) person rows in image pixels, decode order.
        run_nms: Apply ``soft_nms_39`` (the original does with several scales or ``--nms``).

    Returns:
        All rows, concatenated in scale order, after the in-place soft-NMS (stale rows kept,
        no score cut, as the original).
    """
    parts = [np.asarray(p, dtype=np.float32).reshape(-1, 39) for p in per_scale]
    rows = np.ascontiguousarray(np.concatenate(parts, 0) if parts else np.zeros((0, 39)),
                                dtype=np.float32)
    if run_nms and len(rows):
        soft_nms_39_inplace(rows, sigma=sigma, nt=nt, threshold=threshold, method=method)
    return rows
