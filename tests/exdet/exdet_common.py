# Copyright (c) mmcenternet contributors. All rights reserved.
"""Row matching shared by the exdet tests."""
import numpy as np


def match_rows(ref: np.ndarray, pred: np.ndarray, coord_cols, score_col: int, class_col: int,
               coord_tol: float = 0.05, score_tol: float = 1e-4) -> int:
    """Reference rows matched by distinct predicted rows (same class, coordinates and score within
    the tolerances), independent of row order."""
    used = np.zeros(len(pred), bool)
    matched = 0
    for r in ref:
        ok = (~used) & (pred[:, class_col] == r[class_col]) & \
            (np.abs(pred[:, coord_cols] - r[coord_cols]).max(1) <= coord_tol) & \
            (np.abs(pred[:, score_col] - r[score_col]) <= score_tol)
        hit = np.flatnonzero(ok)
        if len(hit):
            used[hit[0]] = True
            matched += 1
    return matched
