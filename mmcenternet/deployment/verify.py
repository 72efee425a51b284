# Copyright (c) mmcenternet contributors. All rights reserved.
"""Checking an export: the ONNX file run by onnxruntime against the PyTorch model it came from
(``tools/deployment/export_onnx.py --verify``)."""
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from mmcenternet.utils.cli import load_config
from .exporter import build_model, make_decoder
from .utils import require

__all__ = ['verify_export']


def verify_export(result: dict, config: str, checkpoint: Optional[str], shape: Sequence[int],
                  cfg_options: Optional[dict] = None, log: Callable[[str], None] = print) -> float:
    """Compare an export (:func:`~.exporter.export_onnx`'s result) run by onnxruntime with
    PyTorch on one random input of ``shape``; print the differences through ``log`` and return
    the largest.

    Raw maps are compared element by element. Decoded rows are matched by content: the scores
    of the two runtimes differ by float rounding (about 1e-6), which can swap rows of nearly
    equal score (common with random weights), so each onnxruntime row is looked up among the
    PyTorch rows with the same label.
    """
    ort = require('onnxruntime')
    cfg = load_config(config, cfg_options)
    model = build_model(cfg, checkpoint)
    x = torch.randn(1, 3, *shape, generator=torch.Generator().manual_seed(0))
    decoded = result['metadata']['outputs'] == 'decoded'
    with torch.no_grad():
        outs = model(x, data_samples=None, mode='tensor')
        if decoded:
            outs = make_decoder(model)[0](tuple(outs))
    sess = ort.InferenceSession(result['model_proto'].SerializeToString(),
                                providers=['CPUExecutionProvider'])
    got = sess.run(None, {'input': x.numpy()})
    ref = [o.numpy() for o in outs]
    if not decoded:
        worst = 0.0
        for name, a, b in zip(result['output_names'], got, ref):
            err = float(np.abs(a.astype(np.float64) - b).max()) if a.size else 0.0
            log(f'  {name:14s} max |onnxruntime - PyTorch| = {err:.3g}')
            worst = max(worst, err)
        return worst
    return _verify_rows(result['output_names'], got, ref, log)


def _verify_rows(names: Sequence[str], got: list, ref: list,
                 log: Callable[[str], None]) -> float:
    """Decoded outputs of image 0: scores in rank order, other columns by matched rows."""

    def table(outs):  # (K, D) float64: everything but the scores, label first
        cols = {n: np.asarray(o[0], np.float64).reshape(len(o[0]), -1) for n, o in
                zip(names, outs)}
        return np.concatenate([cols['labels']] + [c for n, c in cols.items()
                                                  if n not in ('labels', 'scores')], 1)

    a, b = table(got), table(ref)
    score_err = float(np.abs(got[names.index('scores')][0].astype(np.float64) -
                             ref[names.index('scores')][0]).max())
    log(f'  {"scores":14s} max |onnxruntime - PyTorch| = {score_err:.3g} (in rank order)')
    dist = np.abs(a[:, None, :] - b[None, :, :])
    dist[np.broadcast_to(dist[..., :1] > 0, dist.shape)] = np.inf  # other label: no match
    best = dist.max(-1).min(1)  # per onnxruntime row: the closest PyTorch row
    matched = best <= 1e-3
    coord_err = float(best[matched].max()) if matched.any() else float('nan')
    ref_scores = np.asarray(ref[names.index('scores')][0], np.float64)
    unmatched = np.asarray(got[names.index('scores')][0], np.float64)[~matched]
    # an unmatched row is explained when its score is (nearly) shared by another row: for equal
    # scores either runtime may pick other cells or quadruples
    shared = np.array([(np.abs(ref_scores - v) <= 1e-5).sum() > 1 for v in unmatched], bool)
    note = '' if matched.all() else (f'; {len(unmatched)} unmatched, {int(shared.sum())} of them '
                                     'with a score other rows share within 1e-5')
    log(f'  other outputs: {int(matched.sum())} of {len(best)} rows have a PyTorch row with '
        f'the same label within 1e-3 (largest difference {coord_err:.3g}){note}')
    return max(score_err, coord_err if shared.all() else float('inf'))
