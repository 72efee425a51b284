# Copyright (c) mmcenternet contributors. All rights reserved.
"""Access to the golden reference data produced by the original implementation.

The data lives in ``../shared/golden`` beside the repository (override with
``MMCENTERNET_GOLDEN``). Tests that need it are skipped, with the reason, when it is absent;
under CI (``CI=true``) they fail instead, so that a run without the reference data cannot pass
without checking equivalence.
"""
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
GOLDEN = os.environ.get('MMCENTERNET_GOLDEN', osp.join(osp.dirname(REPO), 'shared', 'golden'))


def under_ci() -> bool:
    """Whether the suite runs under CI (``CI`` set to ``true`` / ``1``)."""
    return os.environ.get('CI', '').strip().lower() in ('true', '1', 'yes')


def golden_path(*parts: str) -> str:
    """Path inside the golden folder; skips the calling test if the file is missing (fails it
    under CI)."""
    path = osp.join(GOLDEN, *parts)
    if not osp.exists(path):
        reason = (f'golden reference data not found: {path} (set MMCENTERNET_GOLDEN or put '
                  f'the shared folder beside the repository)')
        if under_ci():
            pytest.fail(f'CI=true: {reason}', pytrace=False)
        pytest.skip(reason)
    return path


def load_npz(*parts: str):
    return np.load(golden_path(*parts))


def load_json(*parts: str):
    with open(golden_path(*parts)) as f:
        return json.load(f)


def dense(z, name: str) -> np.ndarray:
    """Densify a sparse-with-background array (golden README section 0.2)."""
    if name in z.files:
        return z[name]
    out = np.full(int(np.prod(z[name + '_shape'])), z[name + '_bg'], dtype=z[name + '_val'].dtype)
    out[z[name + '_idx']] = z[name + '_val']
    return out.reshape(z[name + '_shape'])


def target_settings(meta: dict) -> dict:
    """Sizes and constants of a golden target set (its JSON ``settings``), with the public set's
    values where an older file lacks a key: ``input_size`` / ``output_size`` as ``(w, h)``,
    ``down_ratio``, ``num_classes``, ``max_objs``, ``mean`` / ``std`` (float32, BGR order)."""
    st = meta.get('settings', {})
    res = st.get('input_res', 512)
    in_w, in_h = st.get('input_w', res), st.get('input_h', res)
    ratio = st.get('down_ratio', 4)
    out = st.get('output_res')
    out_w = st.get('output_w', out if out is not None else in_w // ratio)
    out_h = st.get('output_h', out if out is not None else in_h // ratio)
    return dict(input_size=(in_w, in_h), output_size=(out_w, out_h), down_ratio=ratio,
                num_classes=st.get('num_classes', 80), max_objs=st.get('max_objs', 128),
                mean=np.array(st.get('mean', [0.40789654, 0.44719302, 0.47026115]), np.float32),
                std=np.array(st.get('std', [0.28863828, 0.27408164, 0.27809835]), np.float32))


def match_rows(ref: np.ndarray, pred: np.ndarray, coord_cols: Sequence[int], score_col: int,
               class_col: int, coord_tol: float = 0.05, score_tol: float = 1e-4) -> int:
    """How many reference rows distinct predicted rows match, in any order: same class,
    coordinates within ``coord_tol`` and score within ``score_tol`` (README section 11 rule)."""
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


def original_weights(manifest: dict, seed: int) -> Dict[str, torch.Tensor]:
    """Rebuild an original network's state dict with the golden weight-generation rule."""
    sd = OrderedDict()
    for e in manifest['entries']:
        if e['dtype'] == 'int64':
            sd[e['key']] = torch.tensor(0, dtype=torch.int64)
            continue
        noise = np.random.default_rng(seed + e['i']).standard_normal(size=tuple(e['shape']))
        if e['use_abs']:
            noise = np.abs(noise)
        sd[e['key']] = torch.from_numpy((e['offset'] + e['scale'] * noise).astype(np.float32))
    return sd


def write_original_checkpoint(stem: str, path: str, seed: int = None) -> dict:
    """Write ``{'epoch': 140, 'state_dict': {'module.' + key: tensor}}`` for network ``stem``.

    Returns the manifest.
    """
    manifest = load_json('nets', f'manifest_{stem}.json')
    if seed is None:
        seed = int(load_json('e2e', 'e2e_settings.json').get('weight_seed', 20240601))
    sd = original_weights(manifest, seed)
    torch.save({'epoch': 140, 'state_dict': OrderedDict(('module.' + k, v) for k, v in sd.items())},
               path)
    return manifest


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


def run_tool(*args: str) -> str:
    """Run ``python ARGS`` in the repository as a user would; its output (stdout + stderr).

    Fails the test with the end of the output when the command fails.
    """
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def run_python(*args: str, expect_rc: int = 0):
    """``python ARGS`` in the repository with one thread per process (small runs stay fast on a
    busy machine); fails unless it exits with ``expect_rc``. Returns the completed process."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1'))
    assert proc.returncode == expect_rc, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc
