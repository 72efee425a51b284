# Copyright (c) mmcenternet contributors. All rights reserved.
"""Reduced-precision inference: the network body in bfloat16, the heads and decoding in float32.

Only the backbone and the neck (``extract_feat``) run under ``torch.autocast`` (bfloat16 on the
CPU, float16 or bfloat16 on CUDA); their output is cast back to float32 before the heads, so that
the heat-map logits, the sigmoid, the peak test and every regression map stay float32 (reduced
precision there costs scores, the pitfall of quantised detectors). The weights stay float32:
checkpoints, training and the other paths are unaffected.

Two parts of the body stay float32 by default (``keep_fp32``), because measuring showed that
rounding them moves the heat-map peaks (a DLA-34 trained on the generated shapes, top-100 peaks
shared with float32: whole body bfloat16 89 %, these two float32 96 %; docs/speed.md):

* ``'stem'``: the backbone's leading convolutions, up to its first one with an output stride
  of 8 or more (DLA-34: base layer and levels 0 to 2; ResNet: conv1 and layer1). Every later
  layer inherits their rounding; they are 12 % of DLA-34's multiply-adds.
* ``'offsets'``: the convolutions predicting the deformable convolutions' offsets and masks
  (``conv_offset``): a rounded offset moves the sampling point (7 % of DLA-34's multiply-adds).
  The deformable products themselves run in bfloat16; the fast deformable convolution builds its
  sampling table in float32 (:func:`mmcenternet.ops.modulated_deform_conv2d_fast`).
"""
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn as nn

__all__ = ['PRECISIONS', 'KEEP_FP32', 'STEM_END_STRIDE', 'set_inference_precision',
           'inference_precision_of', 'stem_convs', 'float32_modules']

#: Accepted ``precision`` values and their autocast dtype (None: plain float32).
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
#: Parts of the body that ``set_inference_precision`` keeps float32 unless told otherwise.
KEEP_FP32 = ('stem', 'offsets')
#: The stem ends before the first convolution with at least this output stride (also the rule
#: of the int8 quantiser, :func:`mmcenternet.deployment.quantize.stem_nodes`).
STEM_END_STRIDE = 8


class _ReducedPrecisionFeatures:
    """``extract_feat`` under autocast, float32 outputs (a callable kept on the model)."""

    def __init__(self, fn: Callable, dtype: torch.dtype, channels_last: bool) -> None:
        self.fn, self.dtype, self.channels_last = fn, dtype, channels_last

    def __call__(self, inputs: torch.Tensor):
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(inputs.device.type, dtype=self.dtype):
            feats = self.fn(inputs)
        return _to_float(feats)


class _Float32Forward:
    """A module's ``forward`` outside autocast, on float32 inputs (kept on the module)."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.fn(x.float())


def stem_convs(backbone: nn.Module, probe_size: int = 128) -> List[nn.Conv2d]:
    """The backbone's leading convolutions, in execution order, up to (not including) the first
    whose output stride is 8 or more; found by one float32 forward pass of a
    ``probe_size`` x ``probe_size`` input."""
    order: List[tuple] = []
    hooks = [m.register_forward_hook(
        lambda mod, inp, out: order.append((mod, probe_size // out.shape[-1])))
        for m in backbone.modules() if isinstance(m, nn.Conv2d)]
    param = next(backbone.parameters())
    was_training = backbone.training
    backbone.eval()  # no batch-norm statistics are updated by the probe
    try:
        with torch.no_grad():
            backbone(torch.zeros(1, 3, probe_size, probe_size, device=param.device))
    finally:
        for h in hooks:
            h.remove()
        backbone.train(was_training)
    stem: List[nn.Conv2d] = []
    for mod, stride in order:
        if stride >= STEM_END_STRIDE:
            break
        if mod not in stem:
            stem.append(mod)
    return stem


def _check_keep_fp32(keep_fp32: Sequence[str]) -> None:
    bad = [k for k in keep_fp32 if k not in KEEP_FP32]
    if bad:
        raise ValueError(f'keep_fp32: unknown part(s) {bad}; choose from {KEEP_FP32}')


def float32_modules(model: nn.Module, keep_fp32: Sequence[str]) -> List[nn.Module]:
    """The modules of one detector's body that ``keep_fp32`` names (see the module doc)."""
    _check_keep_fp32(keep_fp32)
    found: List[nn.Module] = []
    if 'stem' in keep_fp32 and isinstance(getattr(model, 'backbone', None), nn.Module):
        found += stem_convs(model.backbone)
    if 'offsets' in keep_fp32:
        for part in (getattr(model, n, None) for n in ('backbone', 'neck')):
            if isinstance(part, nn.Module):
                found += [m.conv_offset for m in part.modules()
                          if isinstance(getattr(m, 'conv_offset', None), nn.Conv2d)]
    return found


def _to_float(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_float(v) for k, v in value.items()}
    return value


def _models_with_features(model: nn.Module):
    """The detectors / pose estimators inside ``model`` (itself, or inside a TTA wrapper)."""
    return [m for m in model.modules() if callable(getattr(m, 'extract_feat', None))]


def set_inference_precision(model: nn.Module, precision: str = 'bf16',
                            channels_last: bool = True,
                            keep_fp32: Sequence[str] = KEEP_FP32) -> nn.Module:
    """Run the backbone and neck of ``model`` in ``precision`` from now on (in place).

    Args:
        model: A CenterNet detector or pose estimator, or a TTA model holding one.
        precision: ``'fp32'`` (undo), ``'bf16'`` or ``'fp16'`` (CUDA only).
        channels_last: Store the body's weights and inputs channels-last (oneDNN's fast layout
            for reduced-precision convolutions on the CPU).
        keep_fp32: Parts of the body that stay float32 (:data:`KEEP_FP32`: ``'stem'``,
            ``'offsets'``); ``()`` runs the whole body in ``precision``.

    Returns:
        ``model``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {sorted(PRECISIONS)}, got {precision!r}')
    _check_keep_fp32(keep_fp32)
    targets = _models_with_features(model)
    if not targets:
        raise ValueError(f'{type(model).__name__} has no extract_feat: not a detector or pose '
                         'estimator')
    for m in targets:
        current = m.__dict__.get('extract_feat')
        if isinstance(current, _ReducedPrecisionFeatures):
            del m.extract_feat  # back to the class's method
        for sub in m.modules():
            if isinstance(sub.__dict__.get('forward'), _Float32Forward):
                del sub.forward
        dtype = PRECISIONS[precision]
        device = next(m.parameters()).device
        if dtype is torch.float16 and device.type != 'cuda':
            raise ValueError('fp16 inference needs a CUDA device; use bf16 on the CPU')
        body = [getattr(m, n) for n in ('backbone', 'neck') if isinstance(getattr(m, n, None),
                                                                          nn.Module)]
        layout = torch.channels_last if (dtype is not None and channels_last) else \
            torch.contiguous_format
        for part in body:
            part.to(memory_format=layout)
        if dtype is not None:
            for sub in float32_modules(m, keep_fp32):
                sub.forward = _Float32Forward(sub.forward)
            m.extract_feat = _ReducedPrecisionFeatures(m.extract_feat, dtype,
                                                       channels_last)
    return model


def inference_precision_of(model: nn.Module) -> str:
    """``'bf16'`` / ``'fp16'`` if :func:`set_inference_precision` changed ``model``, else
    ``'fp32'``."""
    for m in _models_with_features(model):
        current: Optional[_ReducedPrecisionFeatures] = m.__dict__.get('extract_feat')
        if isinstance(current, _ReducedPrecisionFeatures):
            return {v: k for k, v in PRECISIONS.items()}[current.dtype]
    return 'fp32'
