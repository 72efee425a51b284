# Copyright (c) mmcenternet contributors. All rights reserved.
"""Row matching and scripted random draws shared by the exdet tests."""
import numpy as np


class ScriptedDraws:
    """Replays recorded NumPy draws (golden JSON ``random_draws``), checking their arguments."""

    def __init__(self, draws):
        self.draws = list(draws)

    def _next(self, fn):
        d = self.draws.pop(0)
        assert d['fn'] == fn, f'expected a {d["fn"]} draw, got {fn}'
        return d

    def choice(self, arr):
        d = self._next('choice')
        np.testing.assert_array_equal(np.asarray(arr), np.asarray(d['array']))
        return arr[d['index']]

    def randint(self, low, high):
        d = self._next('randint')
        assert (low, high) == (d['low'], d['high'])
        return d['returned']

    def randn(self):
        return self._next('randn')['returned']

    def random(self):
        return self._next('random')['returned']


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
