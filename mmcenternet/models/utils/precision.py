# Copyright (c) mmcenternet contributors. All rights reserved.
"""Reduced-precision inference: the network body in bfloat16, the heads and decoding in float32.

Only the backbone and the neck (``extract_feat``) run under ``torch.autocast`` (bfloat16 on the
CPU, float16 or bfloat16 on CUDA); their output is cast back to float32 before the heads, so that
the heat-map logits, the sigmoid, the peak test and every regression map stay float32 (reduced
precision there costs scores, the pitfall of quantised detectors). The fast deformable
convolution builds its sampling table in float32 and multiplies in the reduced precision
(:func:`mmcenternet.ops.modulated_deform_conv2d_fast`). The weights stay float32: checkpoints,
training and the other paths are unaffected.
"""
from typing import Callable, Optional

import torch
import torch.nn as nn

__all__ = ['PRECISIONS', 'set_inference_precision', 'inference_precision_of']

#: Accepted ``precision`` values and their autocast dtype (None: plain float32).
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


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
                            channels_last: bool = True) -> nn.Module:
    """Run the backbone and neck of ``model`` in ``precision`` from now on (in place).

    Args:
        model: A CenterNet detector or pose estimator, or a TTA model holding one.
        precision: ``'fp32'`` (undo), ``'bf16'`` or ``'fp16'`` (CUDA only).
        channels_last: Store the body's weights and inputs channels-last (oneDNN's fast layout
            for reduced-precision convolutions on the CPU).

    Returns:
        ``model``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {sorted(PRECISIONS)}, got {precision!r}')
    targets = _models_with_features(model)
    if not targets:
        raise ValueError(f'{type(model).__name__} has no extract_feat: not a detector or pose '
                         'estimator')
    for m in targets:
        current = m.__dict__.get('extract_feat')
        if isinstance(current, _ReducedPrecisionFeatures):
            del m.extract_feat  # back to the class's method
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
