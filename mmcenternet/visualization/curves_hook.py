# Copyright (c) mmcenternet contributors. All rights reserved.
"""Training curves: the losses per iteration and the validation AP per evaluation, as a PNG."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['CenterNetCurvesHook', 'plot_training_curves']

#: Metric-name endings drawn in the AP panel (COCO bbox / keypoint AP, VOC mAP).
AP_SUFFIXES = ('mAP', 'mAP_50', '/AP', '/AP .5', 'AP50')


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Running mean over the last ``window`` values (shorter at the start)."""
    v = np.asarray(values, np.float64)
    if len(v) == 0 or window <= 1:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_training_curves(losses: Dict[str, List[Tuple[int, float]]],
                         metrics: Dict[str, List[Tuple[int, float]]], out_file: str,
                         title: str = '') -> str:
    """Draw the loss curves (left) and the validation metrics (right) into ``out_file``.

    Args:
        losses: ``{name: [(iteration, value), ...]}``; ``loss`` (the total) drawn thickest.
        metrics: ``{name: [(epoch or iteration, value), ...]}``.
        out_file: PNG path, written atomically (a temporary file renamed into place).
        title: Figure title.

    Returns:
        ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    fig = Figure(figsize=(11, 4.2), dpi=100)
    ax_loss, ax_ap = fig.subplots(1, 2)
    for name, points in sorted(losses.items(), key=lambda kv: kv[0] != 'loss'):
        if not points:
            continue
        it, val = zip(*points)
        window = max(len(points) // 50, 1)
        ax_loss.plot(it, _smooth(val, window), label=name.replace('loss_', '') or name,
                     linewidth=2.2 if name == 'loss' else 1.2)
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel('loss (running mean)')
    ax_loss.set_yscale('log')
    ax_loss.grid(True, alpha=0.3)
    if losses:
        ax_loss.legend(fontsize=8)
    ax_loss.set_title('training losses')
    for name, points in sorted(metrics.items()):
        ep, val = zip(*points)
        ax_ap.plot(ep, val, marker='o', label=name)
        ax_ap.annotate(f'{val[-1]:.3f}', (ep[-1], val[-1]), textcoords='offset points',
                       xytext=(4, 4), fontsize=8)
    ax_ap.set_xlabel('epoch')
    ax_ap.set_ylabel('validation')
    ax_ap.set_ylim(0, 1)
    ax_ap.grid(True, alpha=0.3)
    ax_ap.set_title('validation AP per evaluation' if metrics else 'no validation yet')
    if metrics:
        ax_ap.legend(fontsize=8, loc='lower right')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = out_file + '.tmp.png'
    fig.savefig(tmp)
    os.replace(tmp, out_file)
    return out_file


@HOOKS.register_module()
class CenterNetCurvesHook(Hook):
    """Write ``<work_dir>/<filename>``: the training losses and each validation's AP.

    The picture is rewritten after every validation and at the end of training, so an
    interrupted run still leaves its curves. Only the main process draws.

    Args:
        filename: PNG name inside the work dir.
        ap_keys: Metric names to draw; default: those ending like an AP (``coco/bbox_mAP``,
            ``coco/bbox_mAP_50``, ``coco/AP``, ``pascal_voc/mAP`` ...).
    """

    priority = 'LOW'

    def __init__(self, filename: str = 'curves.png', ap_keys: Optional[Sequence[str]] = None):
        self.filename = filename
        self.ap_keys = list(ap_keys) if ap_keys else None
        self.losses: Dict[str, List[Tuple[int, float]]] = {}
        self.metrics: Dict[str, List[Tuple[int, float]]] = {}
        self.out_file: Optional[str] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for name, value in (outputs or {}).items():
            if name.startswith('loss'):
                value = value.detach() if hasattr(value, 'detach') else value
                self.losses.setdefault(name, []).append((runner.iter + 1, float(value)))

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        for name, value in (metrics or {}).items():
            wanted = name in self.ap_keys if self.ap_keys else name.endswith(AP_SUFFIXES)
            if wanted and np.isscalar(value) and float(value) >= 0:
                self.metrics.setdefault(name, []).append((runner.epoch, float(value)))
        self._draw(runner)

    def after_train(self, runner) -> None:
        self._draw(runner)
        if self.out_file:
            runner.logger.info(f'training curves: {self.out_file}')

    def _draw(self, runner) -> None:
        if not is_main_process() or not (self.losses or self.metrics):
            return
        name = osp.splitext(osp.basename(runner.cfg.filename or ''))[0] if \
            getattr(runner, 'cfg', None) is not None else ''
        self.out_file = plot_training_curves(self.losses, self.metrics,
                                             osp.join(runner.work_dir, self.filename), name)
