# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference weights: batch norms folded into the convolutions before them, weights cached in the
dtype they are computed in.

Used by :func:`mmcenternet.models.utils.set_inference_precision`. In eval mode a batch norm is an
affine map per channel, so ``bn(conv(x))`` equals a convolution with the weight scaled by
``gamma / sqrt(var + eps)`` and a shifted bias: one pass over the feature map fewer per pair
(DLA-34 has 55 batch norms, 17 ms of its bfloat16 time at 672 x 448 on a 2-core CPU). Under
autocast every convolution also casts its float32 weight to bfloat16 on every call; the folded
weight is kept in the compute dtype (and channels-last where the body is).

The module's parameters and buffers are not changed (checkpoints, training and the float32 path
see the original model): the folded weights live in the wrappers, are recomputed when any source
tensor changes (loading a checkpoint, an optimiser step) and are not used while the batch norm is
in training mode, where the pair runs unfolded.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ['conv_bn_pairs', 'CachedConvForward', 'FoldedBatchNormForward', 'foldable']


def foldable(module: nn.Module) -> bool:
    """Whether ``module`` is a convolution whose weights a wrapper can replace: ``nn.Conv2d`` or
    the fast DCNv2 layer (:class:`mmcenternet.ops.FastModulatedDeformConv2dPack`)."""
    from mmcv.cnn.bricks.wrappers import Conv2d as MMCVConv2d

    from mmcenternet.ops import FastModulatedDeformConv2dPack

    # exact types: subclasses that change the weight in forward (weight standardisation, ...)
    # would be computed wrongly with a replaced weight
    return type(module) in (nn.Conv2d, MMCVConv2d) or isinstance(
        module, FastModulatedDeformConv2dPack)


def conv_bn_pairs(model: nn.Module, modules: Sequence[nn.Module],
                  probe_size: int = 128) -> Dict[nn.Module, nn.BatchNorm2d]:
    """The batch norms of ``modules`` whose input is the output of one convolution.

    Found by one float32 eval-mode pass of ``model.extract_feat`` on a ``probe_size`` square
    (data flow, not module order): a pair is a foldable convolution and a ``BatchNorm2d`` that
    each run once, the batch norm on exactly the tensor the convolution returned.

    Returns:
        ``{conv: bn}``.
    """
    convs = [m for part in modules for m in part.modules() if foldable(m)]
    norms = [m for part in modules for m in part.modules() if type(m) is nn.BatchNorm2d]
    produced: Dict[int, Tuple[nn.Module, Tensor]] = {}
    calls: Dict[nn.Module, int] = {}
    fed: Dict[nn.Module, Optional[nn.Module]] = {}

    def after_conv(mod, inputs, out):
        calls[mod] = calls.get(mod, 0) + 1
        produced[id(out)] = (mod, out)  # the tensor is kept: its id stays unique

    def before_bn(mod, inputs):
        calls[mod] = calls.get(mod, 0) + 1
        source = produced.get(id(inputs[0]))
        fed[mod] = source[0] if source is not None and source[1] is inputs[0] else None

    hooks = [m.register_forward_hook(after_conv) for m in convs]
    hooks += [m.register_forward_pre_hook(before_bn) for m in norms]
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model.extract_feat(torch.zeros(1, 3, probe_size, probe_size, device=param.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    pairs: Dict[nn.Module, nn.BatchNorm2d] = {}
    for bn, conv in fed.items():
        if conv is not None and calls.get(conv) == 1 and calls.get(bn) == 1:
            pairs[conv] = bn
    return pairs


class CachedConvForward:
    """A convolution's ``forward`` with a following batch norm folded in and the weights cached.

    Args:
        conv: ``nn.Conv2d`` or the fast DCNv2 layer.
        bn: The batch norm that follows it, or ``None`` (weights cached only).
        dtype: The dtype the convolution computes in (its input is cast to it).
        memory_format: Layout of the cached weight (channels-last for oneDNN's reduced-precision
            kernels).
        float32: Run outside autocast (a float32 part of a reduced-precision body).
    """

    def __init__(self, conv: nn.Module, bn: Optional[nn.BatchNorm2d], dtype: torch.dtype,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 float32: bool = False) -> None:
        self.conv, self.bn, self.dtype = conv, bn, dtype
        self.memory_format, self.float32 = memory_format, float32
        self.unfolded = type(conv).forward.__get__(conv)
        self._key: Optional[tuple] = None
        self.weight: Optional[Tensor] = None
        self.bias: Optional[Tensor] = None

    def _sources(self) -> List[Optional[Tensor]]:
        conv, bn = self.conv, self.bn
        found = [conv.weight, conv.bias]
        if bn is not None:
            found += [bn.weight, bn.bias, bn.running_mean, bn.running_var]
        return found

    def _refresh(self) -> None:
        key = tuple(None if t is None else (t._version, t.data_ptr(), t.device, t.dtype)
                    for t in self._sources())
        if key == self._key:
            return
        with torch.no_grad():
            weight = self.conv.weight.detach().float()
            bias = self.conv.bias.detach().float() if self.conv.bias is not None else None
            bn = self.bn
            if bn is not None:
                scale = torch.rsqrt(bn.running_var.float() + bn.eps)
                shift = -bn.running_mean.float() * scale
                if bn.weight is not None:
                    scale = scale * bn.weight.float()
                    shift = shift * bn.weight.float()
                if bn.bias is not None:
                    shift = shift + bn.bias.float()
                weight = weight * scale.view(-1, 1, 1, 1)
                bias = shift if bias is None else bias * scale + shift
            weight = weight.to(self.dtype)
            if isinstance(self.conv, nn.Conv2d):
                self.weight = weight.contiguous(memory_format=self.memory_format)
            else:
                # stored as the deformable layer's tap projection reads it, (C, kh, kw, O), so
                # that the projection's weight matrix is a view, not a copy per call
                self.weight = weight.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)
            self.bias = None if bias is None else bias.to(self.dtype)
        self._key = key

    def __call__(self, x: Tensor) -> Tensor:
        if self.bn is not None and self.bn.training:
            return self.unfolded(x)  # batch statistics: the pair runs as written
        self._refresh()
        if self.float32:
            with torch.autocast(x.device.type, enabled=False):
                return self._run(x.float())
        return self._run(x.to(self.dtype))

    def _run(self, x: Tensor) -> Tensor:
        if isinstance(self.conv, nn.Conv2d):
            return self.conv._conv_forward(x, self.weight, self.bias)
        return self.conv.forward_with_weights(x, self.weight, self.bias)


class FoldedBatchNormForward:
    """A folded batch norm's ``forward``: the identity in eval mode (its convolution applied
    it), itself in training mode."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        self.bn = bn
        self.unfolded = type(bn).forward.__get__(bn)

    def __call__(self, x: Tensor) -> Tensor:
        return self.unfolded(x) if self.bn.training else x
