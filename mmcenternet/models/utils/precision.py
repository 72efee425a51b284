# Copyright (c) mmcenternet contributors. All rights reserved.
"""Reduced-precision inference: the network body in bfloat16, the heat maps and decoding in float32.

The backbone and the neck (``extract_feat``) run under ``torch.autocast`` (bfloat16 on the CPU,
float16 or bfloat16 on CUDA), and so do the heads' regression branches (sizes, sub-pixel offsets,
keypoint offsets); the body's output is cast back to float32 before the heads, so that the
heat-map branches, their logits, the sigmoid, the peak test and the decoding stay float32
(reduced precision there costs scores, the pitfall of quantised detectors), and the regression
maps are cast to float32 as they leave their branch. The parameters stay float32: checkpoints,
training and the other paths are unaffected. By default (``fold=True``) the batch norms and
ReLUs that follow a convolution are folded into it and the weights are cached in the dtype and
layout they compute in (:mod:`.folding`).

Four parts of the body stay float32 by default (``keep_fp32``), because measuring showed that
rounding them moves the heat-map peaks (DLA-34 trained on the generated shapes, seven trainings,
top-100 peaks shared with float32: whole body bfloat16 79 to 93 %, the former default (stem and
offsets) 93.4 to 96.8 %, these four parts and the heat-map branches 96.0 to 98.0 %;
docs/speed.md). Together they are 28 % of DLA-34's multiply-adds (the float32 heat-map branches
another 8 %, 80 classes):

* ``'stem'``: the backbone's convolutions that read a map of stride below 8 (DLA-34: base layer,
  levels 0 to 2 and the first convolution of level 3; ResNet: conv1, layer1 and the first
  convolutions of layer2). Few channels, high resolution, and every later layer inherits their
  rounding (12.4 %).
* ``'offsets'``: the convolutions predicting the deformable convolutions' offsets and masks
  (``conv_offset``): a rounded offset moves the sampling point (7 %). The deformable products
  themselves run in bfloat16; the fast deformable convolution builds its sampling table in
  float32 (:func:`mmcenternet.ops.modulated_deform_conv2d_fast`).
* ``'aggregation'``: the backbone's 1 x 1 convolutions that merge branches (DLA's roots over
  concatenated children and its projections; ResNet's shortcut projections). Their outputs carry
  a large common part beside the spread the batch norm keeps (up to 80 times on a trained
  DLA-34), so a rounding of their inputs and weights is magnified (3.8 %).
* ``'coarse_neck'``: the neck's convolutions whose output stride is 16 or more (DLA-34: the
  deepest up-sampling stage and the stride-16 projections; ResNet-DCN: the first deformable
  layers): each of their cells reaches many heat-map cells (5 %).

The biases (with the folded batch norm's shift) are added in float32 by oneDNN's convolution and
by the deformable layer's compiled kernel.

A fifth part is float32 by default too: ``'heat_maps'``, the heat-map branches' hidden
convolutions (8 % of DLA-34's multiply-adds, 80 classes). Left out of ``keep_fp32`` they compute
in bfloat16 and hand float32 maps to the logit convolution, which, with the sigmoid and the
decoding, is float32 always: 7 to 12 % faster on DLA-34, peaks 95.8 to 97.3 % on the seven
trainings (docs/speed.md), a smaller margin than the default's.

A sixth part may be named: ``'regression'``, the heads' regression branches (every branch but the
heat maps), float32 as in training. In reduced precision by default: they do not move the peaks
and their rounding (2 ** -9 of a box size) is far below what the AP resolves (docs/speed.md), while
they are two thirds of the heads' work (the heads are 23 % of DLA-34's multiply-adds).
"""
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn as nn

from .folding import (CachedConvForward, FoldedBatchNormForward, FusedReLUForward, FusionPlan,
                      body_fusion_plan, branch_fusion_plan, eval_mode, foldable)

__all__ = ['PRECISIONS', 'KEEP_FP32', 'FP32_PARTS', 'STEM_INPUT_STRIDE', 'set_inference_precision',
           'inference_precision_of', 'stem_convs', 'aggregation_convs', 'coarse_neck_convs',
           'float32_modules', 'regression_branches', 'heat_map_hidden_convs']

#: Accepted ``precision`` values and their autocast dtype (None: plain float32).
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
#: Parts that ``keep_fp32`` may name (see the module doc).
FP32_PARTS = ('stem', 'offsets', 'aggregation', 'coarse_neck', 'heat_maps', 'regression')
#: Parts that ``set_inference_precision`` keeps float32 unless told otherwise.
KEEP_FP32 = ('stem', 'offsets', 'aggregation', 'coarse_neck', 'heat_maps')
#: ``'stem'``: the backbone's convolutions that read a map of a smaller stride than this.
STEM_INPUT_STRIDE = 8
#: ``'coarse_neck'``: the neck's convolutions with at least this output stride.
COARSE_NECK_STRIDE = 16
#: ``'aggregation'``: the backbone's 1 x 1 convolutions inside a module of one of these names
#: (DLA's roots and projections, the shortcut projections of ResNet and Hourglass).
AGGREGATION_NAMES = ('root', 'project', 'downsample')


class _ReducedPrecisionFeatures:
    """A callable under autocast with float32 outputs, kept on the model in place of
    ``extract_feat`` and of each reduced regression branch's ``forward``."""

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


def _strides(run: Callable[[torch.Tensor], object], owner: nn.Module,
             modules: Sequence[nn.Module], probe_size: int) -> List[tuple]:
    """``(module, input stride, output stride)`` of ``modules`` in execution order, from one
    float32 pass of ``run`` on a zero ``probe_size`` x ``probe_size`` image (``owner`` in eval
    mode meanwhile)."""
    order: List[tuple] = []
    hooks = [m.register_forward_hook(
        lambda mod, inp, out: order.append(
            (mod, probe_size // inp[0].shape[-1], probe_size // out.shape[-1])))
        for m in modules]
    param = next(owner.parameters())
    try:
        with eval_mode(owner), torch.no_grad():
            run(torch.zeros(1, 3, probe_size, probe_size, device=param.device))
    finally:
        for h in hooks:
            h.remove()
    return order


def stem_convs(backbone: nn.Module, probe_size: int = 128) -> List[nn.Conv2d]:
    """The backbone's convolutions that read a map of stride below :data:`STEM_INPUT_STRIDE`
    (the full- to quarter-resolution ones), in execution order; found by one float32 forward
    pass of a ``probe_size`` x ``probe_size`` input."""
    stem: List[nn.Conv2d] = []
    for mod, stride, _ in _strides(backbone, backbone,
                                   [m for m in backbone.modules() if isinstance(m, nn.Conv2d)],
                                   probe_size):
        if stride < STEM_INPUT_STRIDE and mod not in stem:
            stem.append(mod)
    return stem


def aggregation_convs(backbone: nn.Module) -> List[nn.Conv2d]:
    """The backbone's 1 x 1 convolutions that merge branches: those inside a module named in
    :data:`AGGREGATION_NAMES` (DLA-34: every root and projection; ResNet: the shortcut
    projections)."""
    return [m for name, m in backbone.named_modules()
            if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
            and any(part in AGGREGATION_NAMES for part in name.split('.')[:-1])]


def coarse_neck_convs(model: nn.Module, probe_size: int = 128) -> List[nn.Module]:
    """The neck's convolutions (deformable ones and transposed ones included, the offset
    convolutions not) whose output stride is :data:`COARSE_NECK_STRIDE` or more, in execution
    order; found by one float32 pass of ``model.extract_feat`` on a ``probe_size`` square."""
    neck = getattr(model, 'neck', None)
    if not isinstance(neck, nn.Module):
        return []
    offsets = {id(m.conv_offset) for m in neck.modules()
               if isinstance(getattr(m, 'conv_offset', None), nn.Module)}
    convs = [m for m in neck.modules() if id(m) not in offsets and (
        foldable(m) or isinstance(m, nn.ConvTranspose2d))]
    found: List[nn.Module] = []
    for mod, _, stride in _strides(model.extract_feat, model, convs, probe_size):
        if stride >= COARSE_NECK_STRIDE and mod not in found:
            found.append(mod)
    return found


def _check_keep_fp32(keep_fp32: Sequence[str]) -> None:
    bad = [k for k in keep_fp32 if k not in FP32_PARTS]
    if bad:
        raise ValueError(f'keep_fp32: unknown part(s) {bad}; choose from {FP32_PARTS}')


def regression_branches(model: nn.Module) -> List[nn.Module]:
    """The branches of every CenterNet head module in ``model`` that are not heat maps (one
    module per branch and stack, e.g. ``wh`` and ``reg`` of a detector)."""
    return _head_branches(model, heat_maps=False)


def heat_map_hidden_convs(model: nn.Module) -> List[nn.Conv2d]:
    """The convolutions of every heat-map branch before its logit convolution (none where a
    branch is one convolution)."""
    found: List[nn.Conv2d] = []
    for branch in _head_branches(model, heat_maps=True):
        found += [c for c in branch.modules() if isinstance(c, nn.Conv2d)][:-1]
    return found


def _head_branches(model: nn.Module, heat_maps: bool) -> List[nn.Module]:
    from mmcenternet.models.dense_heads.centernet_head_module import CenterNetHeadModule
    found: List[nn.Module] = []
    for head in model.modules():
        if isinstance(head, CenterNetHeadModule):
            for name in head.heads:
                if ('hm' in name) == heat_maps:  # the head module's own rule for heat maps
                    found += list(getattr(head, name))
    return found


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
    if 'aggregation' in keep_fp32 and isinstance(getattr(model, 'backbone', None), nn.Module):
        found += [m for m in aggregation_convs(model.backbone) if m not in found]
    if 'coarse_neck' in keep_fp32:
        found += [m for m in coarse_neck_convs(model) if m not in found]
    return found


def _depthwise_transposed(body: Sequence[nn.Module], device: torch.device) -> List[nn.Module]:
    """The depthwise transposed convolutions of ``body`` (DLA's bilinear up-sampling) on the
    CPU: torch has no oneDNN kernel for them in bfloat16, and its generic one took 31 ms of
    DLA-34's 245 ms at 672 x 448 (float32: under 1 ms); their work is negligible, so they
    compute in float32 (speed only: they are not a ``keep_fp32`` part)."""
    if device.type != 'cpu':
        return []
    return [sub for part in body for sub in part.modules()
            if isinstance(sub, nn.ConvTranspose2d) and sub.groups > 1
            and sub.groups == sub.in_channels]


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
                            keep_fp32: Sequence[str] = KEEP_FP32,
                            fold: bool = True) -> nn.Module:
    """Run the backbone and neck of ``model`` in ``precision`` from now on (in place).

    Args:
        model: A CenterNet detector or pose estimator, or a TTA model holding one.
        precision: ``'fp32'`` (undo), ``'bf16'`` or ``'fp16'`` (CUDA only).
        channels_last: Store the body's weights and inputs channels-last (oneDNN's fast layout
            for reduced-precision convolutions on the CPU).
        keep_fp32: Parts that stay float32 (:data:`FP32_PARTS`, see the module doc; default
            :data:`KEEP_FP32`, all but ``'regression'``); ``()`` runs the whole body, the
            regression branches and the heat-map branches' hidden convolutions in
            ``precision``. The heat-map logits, sigmoid and decoding are always float32.
        fold: Fold every batch norm of the body into the convolution before it, fuse the ReLUs
            that follow a convolution into it, and cache the convolutions' weights in the dtype
            and layout they compute in (:mod:`.folding`; the model's parameters are unchanged).
            ``False`` leaves the batch norms, the ReLUs and autocast's per-call weight casts.

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
            if isinstance(sub.__dict__.get('forward'),
                          (_Float32Forward, _ReducedPrecisionFeatures, CachedConvForward,
                           FoldedBatchNormForward, FusedReLUForward)):
                del sub.forward
        dtype = PRECISIONS[precision]
        device = next(m.parameters()).device
        if dtype is torch.float16 and device.type != 'cuda':
            raise ValueError('fp16 inference needs a CUDA device; use bf16 on the CPU')
        body = [getattr(m, n) for n in ('backbone', 'neck') if isinstance(getattr(m, n, None),
                                                                          nn.Module)]
        branches = regression_branches(m)
        heat_maps = _head_branches(m, heat_maps=True)
        reduced_heads = (([] if 'regression' in keep_fp32 else branches)
                         + ([] if 'heat_maps' in keep_fp32 else heat_map_hidden_convs(m)))
        reduced = body + reduced_heads
        layout = torch.channels_last if (dtype is not None and channels_last) else \
            torch.contiguous_format
        # the heads' inputs are channels-last too (float32 copies of the body's output): every
        # branch's weights follow, or each convolution would reorder its weight on every call
        for part in body + branches + heat_maps:
            part.to(memory_format=layout)
        if dtype is not None:
            kept = float32_modules(m, keep_fp32)
            plan = FusionPlan({}, {})
            if fold:
                plan = body_fusion_plan(m, body)
                for branch in branches + heat_maps:
                    plan.relus.update(branch_fusion_plan(branch).relus)
            for sub in kept + _depthwise_transposed(body, device):
                if sub not in plan.norms and sub not in plan.relus:
                    sub.forward = _Float32Forward(sub.forward)
            if fold:
                # every convolution of the reduced parts, and the float32 ones with a batch
                # norm or ReLU to fuse (a float32 heat-map branch computes as before)
                convs = [c for part in reduced for c in part.modules() if foldable(c)]
                reduced_convs = set(convs) - set(kept)
                for conv in dict.fromkeys(convs + list(plan.norms) + list(plan.relus)):
                    f32 = conv not in reduced_convs
                    bn, relu = plan.norms.get(conv), plan.relus.get(conv)
                    conv.forward = CachedConvForward(
                        conv, bn, torch.float32 if f32 else dtype, layout, float32=f32,
                        relu=relu is not None)
                    if bn is not None:
                        bn.forward = FoldedBatchNormForward(bn)
                    if relu is not None:
                        relu.forward = FusedReLUForward(relu, bn)
            for sub in reduced_heads:
                sub.forward = _ReducedPrecisionFeatures(sub.forward, dtype, channels_last)
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
