# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deformable convolutions as the standard ONNX ``DeformConv`` operator (opset 19).

mmcv's deformable convolutions export as the custom ``mmcv::MMCVModulatedDeformConv2d``, which
only mmdeploy's plugins run. ONNX opset 19 defines ``DeformConv`` with the same semantics:
inputs ``X, W, offset, B, mask``; ``offset`` has ``offset_group * kH * kW * 2`` channels holding,
for every kernel tap in row-major order, the ``(dy, dx)`` pair, exactly mmcv's layout (the first
two thirds of ``conv_offset``'s output), and ``mask`` the ``offset_group * kH * kW`` modulation
weights (the sigmoid of the last third). :func:`replace_deform_convs` swaps every deformable
convolution of a model for :class:`ExportableDeformConv`, which computes the same thing with
mmcv's kernel in PyTorch and becomes a single ``DeformConv`` node when traced for export.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ['DeformConvFunction', 'ExportableDeformConv', 'replace_deform_convs',
           'restore_deform_convs', 'is_deform_conv']


class DeformConvFunction(torch.autograd.Function):
    """``DeformConv`` of ONNX: mmcv's kernel when run, one standard node when exported."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, offset: Tensor, bias: Tensor,
                mask: Optional[Tensor], stride: Tuple[int, int], padding: Tuple[int, int],
                dilation: Tuple[int, int], groups: int, offset_groups: int) -> Tensor:
        if mask is None:
            from mmcv.ops import deform_conv2d
            out = deform_conv2d(x, offset, weight, stride, padding, dilation, groups,
                                offset_groups)
            return out + bias.view(1, -1, 1, 1)
        from mmcv.ops import modulated_deform_conv2d
        return modulated_deform_conv2d(x, offset, mask, weight, bias, stride, padding, dilation,
                                       groups, offset_groups)

    @staticmethod
    def symbolic(g, x, weight, offset, bias, mask, stride, padding, dilation, groups,
                 offset_groups):
        inputs = [x, weight, offset, bias] + ([] if mask is None else [mask])
        kernel = _static_kernel_shape(weight)
        attrs = dict(strides_i=list(stride), pads_i=list(padding) * 2, dilations_i=list(dilation),
                     group_i=int(groups), offset_group_i=int(offset_groups))
        if kernel is not None:
            attrs['kernel_shape_i'] = kernel
        return g.op('DeformConv', *inputs, **attrs)


def _static_kernel_shape(weight) -> Optional[List[int]]:
    try:
        sizes = weight.type().sizes()
    except RuntimeError:
        return None
    return [int(s) for s in sizes[2:]] if sizes and len(sizes) == 4 else None


def is_deform_conv(module: nn.Module) -> bool:
    """Whether ``module`` is a self-contained deformable convolution (an mmcv ``*Pack`` layer).

    Recognised by structure: a ``conv_offset`` layer predicting the offsets (and the mask) from
    the input, a 4-d ``weight`` and ``deform_groups``.
    """
    weight = getattr(module, 'weight', None)
    return isinstance(getattr(module, 'conv_offset', None), nn.Conv2d) and \
        hasattr(module, 'deform_groups') and isinstance(weight, Tensor) and weight.dim() == 4


class ExportableDeformConv(nn.Module):
    """A deformable convolution (mmcv ``ModulatedDeformConv2dPack`` / ``DeformConv2dPack``
    semantics) that exports as ONNX ``DeformConv``; it shares the original layer's parameters.

    Args:
        layer: The deformable convolution to stand in for (see :func:`is_deform_conv`).
        name: Its name in the model, for error messages.
    """

    def __init__(self, layer: nn.Module, name: str = '') -> None:
        super().__init__()
        kh, kw = layer.weight.shape[2:]
        taps = int(layer.deform_groups) * kh * kw
        out = layer.conv_offset.out_channels
        if out not in (2 * taps, 3 * taps):
            raise ValueError(
                f'{name or type(layer).__name__}: conv_offset predicts {out} channels, '
                f'expected {2 * taps} (offsets) or {3 * taps} (offsets and mask) for '
                f'deform_groups={layer.deform_groups} and a {kh}x{kw} kernel')
        self.modulated = out == 3 * taps
        self.num_offsets = 2 * taps
        self.conv_offset = layer.conv_offset
        self.weight = layer.weight
        bias = getattr(layer, 'bias', None)
        if bias is None:
            # ONNX DeformConv takes the bias before the mask: pass explicit zeros.
            self.register_buffer('bias', layer.weight.new_zeros(layer.weight.shape[0]),
                                 persistent=False)
        else:
            self.bias = bias
        self.stride = _pair(layer.stride)
        self.padding = _pair(layer.padding)
        self.dilation = _pair(layer.dilation)
        self.groups = int(getattr(layer, 'groups', 1))
        self.deform_groups = int(layer.deform_groups)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv_offset(x)
        offset = out[:, :self.num_offsets]
        mask = out[:, self.num_offsets:].sigmoid() if self.modulated else None
        return DeformConvFunction.apply(x, self.weight, offset, self.bias, mask, self.stride,
                                        self.padding, self.dilation, self.groups,
                                        self.deform_groups)


def _pair(v) -> Tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[-1])
    return int(v), int(v)


def replace_deform_convs(model: nn.Module) -> List[Tuple[nn.Module, str, nn.Module]]:
    """Replace every deformable convolution of ``model`` in place by
    :class:`ExportableDeformConv` (sharing its parameters).

    Returns:
        ``(parent, attribute, original layer, name in the model)`` per replacement, for
        :func:`restore_deform_convs`.
    """
    replaced = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if is_deform_conv(child) and not isinstance(child, ExportableDeformConv):
                full = f'{name}.{child_name}' if name else child_name
                setattr(module, child_name, ExportableDeformConv(child, full))
                replaced.append((module, child_name, child, full))
    return replaced


def restore_deform_convs(replaced) -> None:
    """Undo :func:`replace_deform_convs`."""
    for parent, attr, original, _ in reversed(replaced):
        setattr(parent, attr, original)
