# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference weights: batch norms and ReLUs folded into the convolutions before them, weights
cached in the dtype and layout they are computed in.

Used by :func:`mmcenternet.models.utils.set_inference_precision`. In eval mode a batch norm is an
affine map per channel, so ``bn(conv(x))`` equals a convolution with the weight scaled by
``gamma / sqrt(var + eps)`` and a shifted bias: one pass over the feature map fewer per pair
(DLA-34 has 55 batch norms, 17 ms of its bfloat16 time at 672 x 448 on a 2-core CPU). A ReLU
after such a convolution becomes oneDNN's post-op (or the compiled deformable kernel's), one
more pass fewer. Under autocast every convolution also casts its float32 weight to bfloat16,
and oneDNN reorders a weight whose layout differs from its input's, on every call; the folded
weight is kept in the compute dtype and the input's layout.

The module's parameters and buffers are not changed (checkpoints, training and the float32 path
see the original model): the folded weights live in the wrappers, are recomputed when any source
tensor changes (loading a checkpoint, an optimiser step) and are not used while the batch norm is
in training mode, where the pair runs unfolded.
"""
import contextlib
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ['FusionPlan', 'fusion_plan', 'eval_mode', 'body_fusion_plan', 'branch_fusion_plan',
           'conv_bn_pairs', 'CachedConvForward', 'FoldedBatchNormForward', 'FusedReLUForward',
           'foldable']


def foldable(module: nn.Module) -> bool:
    """Whether ``module`` is a convolution whose weights a wrapper can replace: ``nn.Conv2d`` or
    the fast DCNv2 layer (:class:`mmcenternet.ops.FastModulatedDeformConv2dPack`)."""
    from mmcv.cnn.bricks.wrappers import Conv2d as MMCVConv2d

    from mmcenternet.ops import FastModulatedDeformConv2dPack

    # exact types: subclasses that change the weight in forward (weight standardisation, ...)
    # would be computed wrongly with a replaced weight
    return type(module) in (nn.Conv2d, MMCVConv2d) or isinstance(
        module, FastModulatedDeformConv2dPack)


class FusionPlan(NamedTuple):
    """What an inference conversion folds: ``{conv: bn}`` and ``{conv: relu}``."""
    norms: Dict[nn.Module, nn.BatchNorm2d]
    relus: Dict[nn.Module, nn.ReLU]


def fusion_plan(modules: Sequence[nn.Module], run: Callable[[], object]) -> FusionPlan:
    """The batch norms and ReLUs of ``modules`` that can be folded into a convolution.

    Found from the data flow of one forward pass (``run()``, in eval mode and without
    gradients), not from module order:

    * a batch norm is folded into a foldable convolution if each runs once and the batch norm's
      input is exactly the tensor the convolution returned;
    * an in-place ReLU is fused into such a convolution if it runs once and its input is exactly
      the output of that convolution or of its folded batch norm (an in-place ReLU already
      overwrites the tensor, so no other consumer can rely on the values before it).
    """
    convs = [m for part in modules for m in part.modules() if foldable(m)]
    norms = [m for part in modules for m in part.modules() if type(m) is nn.BatchNorm2d]
    relus = [m for part in modules for m in part.modules()
             if type(m) is nn.ReLU and m.inplace]
    produced: Dict[int, Tuple[nn.Module, Tensor]] = {}
    calls: Dict[nn.Module, int] = {}
    source: Dict[nn.Module, Optional[nn.Module]] = {}

    def after(mod, inputs, out):
        produced[id(out)] = (mod, out)  # the tensor is kept: its id stays unique

    def before(mod, inputs):
        calls[mod] = calls.get(mod, 0) + 1
        found = produced.get(id(inputs[0]))
        source[mod] = found[0] if found is not None and found[1] is inputs[0] else None

    hooks = []
    for m in convs + norms + relus:
        hooks += [m.register_forward_pre_hook(before), m.register_forward_hook(after)]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in hooks:
            h.remove()
    once = {m for m, n in calls.items() if n == 1}
    conv_set, norm_set = set(convs), set(norms)
    pairs = {conv: bn for bn, conv in source.items()
             if bn in norm_set and bn in once and conv in once and conv in conv_set}
    by_norm = {bn: conv for conv, bn in pairs.items()}
    fused: Dict[nn.Module, nn.ReLU] = {}
    for relu in relus:
        src = source.get(relu)
        conv = by_norm.get(src, src if src in conv_set and src not in pairs else None)
        if relu in once and conv in once and conv is not None:
            fused[conv] = relu
    return FusionPlan(pairs, fused)


@contextlib.contextmanager
def eval_mode(module: nn.Module):
    """``module`` in eval mode for a probe pass (no batch-norm statistics are updated), its
    mode restored after."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def body_fusion_plan(model: nn.Module, modules: Sequence[nn.Module],
                     probe_size: int = 128) -> FusionPlan:
    """:func:`fusion_plan` of a detector's body, probed by ``model.extract_feat`` on a
    ``probe_size`` square of zeros in eval mode (the mode is restored)."""
    device = next(model.parameters()).device
    with eval_mode(model):
        return fusion_plan(modules, lambda: model.extract_feat(
            torch.zeros(1, 3, probe_size, probe_size, device=device)))


def branch_fusion_plan(branch: nn.Module, size: int = 8) -> FusionPlan:
    """:func:`fusion_plan` of one head branch (a module taking one feature map), probed on a
    ``size`` square of zeros."""
    first = next(m for m in branch.modules() if isinstance(m, nn.Conv2d))
    device = next(branch.parameters()).device
    with eval_mode(branch):
        return fusion_plan([branch], lambda: branch(
            torch.zeros(1, first.in_channels, size, size, device=device)))


def conv_bn_pairs(model: nn.Module, modules: Sequence[nn.Module],
                  probe_size: int = 128) -> Dict[nn.Module, nn.BatchNorm2d]:
    """``{conv: bn}`` of :func:`body_fusion_plan`."""
    return body_fusion_plan(model, modules, probe_size).norms


class CachedConvForward:
    """A convolution's ``forward`` with a following batch norm folded in and the weights cached.

    Args:
        conv: ``nn.Conv2d`` or the fast DCNv2 layer.
        bn: The batch norm that follows it, or ``None`` (weights cached only).
        dtype: The dtype the convolution computes in (its input is cast to it).
        memory_format: Layout of the cached weight (channels-last for oneDNN's reduced-precision
            kernels).
        float32: Run outside autocast (a float32 part of a reduced-precision body).
        relu: Apply the ReLU that follows (and that :class:`FusedReLUForward` then skips): in
            oneDNN's convolution as a post-op on the CPU, in the deformable layer's kernel.
    """

    def __init__(self, conv: nn.Module, bn: Optional[nn.BatchNorm2d], dtype: torch.dtype,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 float32: bool = False, relu: bool = False) -> None:
        self.conv, self.bn, self.dtype = conv, bn, dtype
        self.memory_format, self.float32, self.relu = memory_format, float32, relu
        self.unfolded = type(conv).forward.__get__(conv)
        self._key: Optional[tuple] = None
        self.weight: Optional[Tensor] = None
        self.bias: Optional[Tensor] = None
        self.bias_cast: Optional[Tensor] = None

    def _sources(self) -> List[Optional[Tensor]]:
        # the modules' dicts directly: nn.Module.__getattr__ is slow, and this runs per call
        conv, bn = self.conv, self.bn
        found = [conv._parameters.get('weight'), conv._parameters.get('bias')]
        if bn is not None:
            found += [bn._parameters.get('weight'), bn._parameters.get('bias'),
                      bn._buffers.get('running_mean'), bn._buffers.get('running_var')]
        return found

    def _refresh(self) -> None:
        # a replaced tensor, new data (``.data =``, ``.to()``) or an in-place change (loading a
        # checkpoint, an optimiser step) changes the key
        key = tuple(None if t is None else (id(t), t._version, t.data_ptr())
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
            # the bias stays float32 where the kernel adds it in float32 (oneDNN's convolution
            # and the deformable layer's compiled kernel): after folding it carries the batch
            # norm's shift, often large beside the output's spread, and rounding it to
            # bfloat16 moved heat-map peaks (docs/speed.md)
            self.bias = None if bias is None else bias
            self.bias_cast = None if bias is None else bias.to(self.dtype)
        self._key = key

    def __call__(self, x: Tensor) -> Tensor:
        if self.bn is not None and self.bn.training:
            return self.unfolded(x)  # batch statistics: the pair runs as written
        self._refresh()
        if self.float32:
            with torch.autocast(x.device.type, enabled=False):
                return self._run(x.float())
        if not isinstance(self.conv, nn.Conv2d):
            # the deformable layer casts its input for the products itself (autocast's dtype);
            # its offset convolution, float32 by default, reads the input as it came, neither
            # rounded nor copied twice
            return self._run(x)
        return self._run(x.to(self.dtype))

    def _run(self, x: Tensor) -> Tensor:
        conv = self.conv
        if not isinstance(conv, nn.Conv2d):
            return conv.forward_with_weights(x, self.weight, self.bias, relu=self.relu)
        if (x.device.type == 'cpu' and _POINTWISE is not None
                and conv.padding_mode == 'zeros' and not isinstance(conv.padding, str)
                and x.dtype in (torch.float32, torch.bfloat16)):
            # oneDNN's convolution, the ReLU as a post-op (the same values as convolution then
            # ReLU, one pass over the output fewer) and the bias in float32
            return _POINTWISE(x, self.weight, self.bias, list(conv.padding), list(conv.stride),
                              list(conv.dilation), conv.groups, 'relu' if self.relu else 'none',
                              [], '')
        out = conv._conv_forward(x, self.weight, self.bias_cast)
        return out.relu_() if self.relu else out


class FoldedBatchNormForward:
    """A folded batch norm's ``forward``: the identity in eval mode (its convolution applied
    it), itself in training mode."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        self.bn = bn
        self.unfolded = type(bn).forward.__get__(bn)

    def __call__(self, x: Tensor) -> Tensor:
        return self.unfolded(x) if self.bn.training else x


class FusedReLUForward:
    """A fused ReLU's ``forward``: the identity where its convolution applied it, itself where
    the convolution ran unfolded (its batch norm in training mode)."""

    def __init__(self, relu: nn.ReLU, bn: Optional[nn.BatchNorm2d]) -> None:
        self.relu_module, self.bn = relu, bn
        self.unfolded = type(relu).forward.__get__(relu)

    def __call__(self, x: Tensor) -> Tensor:
        return self.unfolded(x) if self.bn is not None and self.bn.training else x


def _pointwise_op():
    """oneDNN's fused convolution (torch's CPU build), or ``None`` where torch lacks it."""
    try:
        return torch.ops.mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):
        return None


_POINTWISE = _pointwise_op() if torch.backends.mkldnn.is_available() else None
