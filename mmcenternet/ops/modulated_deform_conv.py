# Copyright (c) mmcenternet contributors. All rights reserved.
"""A fast modulated deformable convolution (DCNv2) with mmcv's parameters and numerics.

mmcv's CPU kernel builds its im2col buffer one value at a time and spends most of its time in
bookkeeping (a 64 -> 64 3x3 layer on a 128 x 168 map costs as much as 20 to 30 plain
convolutions of the same shape on a 2-core CPU), and its backward pass is about ten times slower
again. This module computes the same function with a few large, well-optimised tensor operations:

1. **Tap projection.** Every kernel tap is a 1x1 convolution of the *unsampled* input:
   ``P[q, t, :] = W[:, :, t] @ x[q]`` for every input pixel ``q`` and tap ``t``, one matrix
   product of shape ``(N*H*W, C) @ (C, taps * O)``. Sampling and the channel reduction commute
   (both are linear), so the deformable convolution becomes a weighted sum of rows of ``P``.
2. **Sampling table.** For every output pixel, the four bilinear corners of each of the
   ``deform_groups * kh * kw`` sampling points give 4 row indices of ``P`` and 4 weights
   (bilinear weight x modulation mask, zero for corners outside the map: mmcv's rule that a
   point contributes only if it lies in ``(-1, H) x (-1, W)`` and only through in-map corners).
3. **Sparse gather.** ``out[p] = sum_j weight[p, j] * P[index[p, j]]``, i.e. a sparse matrix
   (``taps * 4`` non-zeros per row) times ``P``, computed by ``torch.nn.functional.embedding_bag``
   (a fused gather-multiply-accumulate kernel, parallel over output pixels).

Gradients: step 1 by autograd (two matrix products); step 2 in closed form
(:class:`_SamplingTable`); step 3 (:class:`_SampleTaps`) with the transposed sparse matrix (the
row indices sorted once, then the same fused kernel with one bag per row of ``P``) and torch's
fused per-sample-weight gradient, so no ``(pixels x taps x channels)`` temporary beyond ``P`` and
its gradient is materialised. The result equals mmcv's ``modulated_deform_conv2d`` up to float
rounding (the order of the sums differs). The small, irregular steps (the table, sorting) run on
one thread, the matrix products and gathers on all (see :func:`_one_cpu_thread`).

:class:`FastModulatedDeformConv2dPack` (registered as ``DCNv2Fast`` in mmcv's conv-layer
registry) is mmcv's ``ModulatedDeformConv2dPack`` (``DCNv2``) with the same parameters,
initialisation and state-dict keys, that runs this implementation where it is the faster one
(see :func:`choose_impl`) and mmcv's op elsewhere.
"""
import contextlib
import threading
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.ops.modulated_deform_conv import ModulatedDeformConv2dPack, modulated_deform_conv2d
from mmengine.logging import print_log
from mmengine.registry import MODELS
from torch import Tensor
from torch.autograd.function import once_differentiable
from torch.nn.modules.utils import _pair

from .compiled import deform_gather, load_compiled_ops

__all__ = [
    'modulated_deform_conv2d_fast', 'sampling_table', 'tap_projection', 'choose_impl',
    'unsupported_reason', 'mmcv_has_cuda_ops', 'FastModulatedDeformConv2dPack', 'DCN_IMPLS'
]

#: Accepted values of ``impl`` (see :func:`choose_impl`).
DCN_IMPLS = ('auto', 'fast', 'mmcv')

IntPair = Union[int, Sequence[int]]


def _table(offset: Tensor, mask: Tensor, in_size: Tuple[int, int], kernel_size: Tuple[int, int],
           stride: Tuple[int, int], padding: Tuple[int, int], dilation: Tuple[int, int],
           deform_groups: int) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The table of :func:`sampling_table` plus what its gradient needs (no autograd).

    Every array is planar, the N * Ho * Wo * T sampling points innermost (element-wise operations
    over short inner axes are several times slower), the y and x axes stacked in front.

    Returns:
        ``index`` and ``weight`` (N * Ho * Wo, 4 * T) (corner-major: corners (y0, x0),
        (y0, x1), (y1, x0), (y1, x1), each followed by the T taps); per axis (2, N, Ho, Wo, T):
        the weights of the near and of the far corner, whether the near and whether the far
        corner contributes; the mask as (N, Ho, Wo, T).
    """
    n, _, ho, wo = offset.shape
    h, w = in_size
    kh, kw = kernel_size
    taps = deform_groups * kh * kw
    device, dtype = offset.device, offset.dtype
    # grid position of every output pixel and tap, per axis: y (Ho, 1, T), x (1, Wo, T)
    tap_i = torch.arange(kh, device=device).repeat_interleave(kw).repeat(deform_groups)
    tap_j = torch.arange(kw, device=device).repeat(kh * deform_groups)
    grid_y = (torch.arange(ho, device=device) * stride[0] - padding[0]).view(ho, 1, 1) + \
        (tap_i * dilation[0]).view(1, 1, taps)
    grid_x = (torch.arange(wo, device=device) * stride[1] - padding[1]).view(1, wo, 1) + \
        (tap_j * dilation[1]).view(1, 1, taps)
    # Sampling positions (2, N, Ho, Wo, T): integer grid position + float offset, as mmcv; the
    # grids are broadcast in the additions, never materialised
    pos = torch.empty((2, n, ho, wo, taps), device=device, dtype=dtype)
    off = offset.reshape(n, taps, 2, ho, wo).permute(2, 0, 3, 4, 1)
    torch.add(off[0], grid_y.to(dtype), out=pos[0])
    torch.add(off[1], grid_x.to(dtype), out=pos[1])
    # NaN and infinite positions become -2, outside every map: they fail every test below, as
    # NaN does in mmcv, and the products with the tests below stay finite
    pos.nan_to_num_(nan=-2.0, posinf=-2.0, neginf=-2.0)
    low = torch.floor(pos)
    last = torch.tensor([h - 1, w - 1], device=device, dtype=dtype).view(2, 1, 1, 1, 1)
    # A corner contributes only if it lies in the map and its point in (-1, H) x (-1, W), as in
    # mmcv (values and gradients). The first clause of the far corner matters only for points
    # exactly on -1, where mmcv has no offset gradient.
    in_near = (low >= 0) & (low <= last)
    in_far = (pos > -1) & (low < last)
    frac = pos.sub_(low)
    # products with the tests rather than torch.where (several times slower), in place where
    # possible (fresh tensors cost page faults on the CPU)
    w_far = frac * in_far
    w_near = frac.neg_().add_(1).mul_(in_near)
    # contiguous: products with a permuted operand would keep its strides, and the stacks below
    # would gather single values
    msk = mask.reshape(n, taps, ho, wo).permute(0, 2, 3, 1).contiguous()
    wy0, wy1 = w_near[0] * msk, w_far[0] * msk
    # corners in front of the taps: the order inside a pixel's bag does not change the sum, and
    # runs of T values are written several times faster than single interleaved ones
    weight = torch.empty((n, ho, wo, 4, taps), device=device, dtype=dtype)
    for c, (wy, wx) in enumerate(((wy0, w_near[1]), (wy0, w_far[1]), (wy1, w_near[1]),
                                  (wy1, w_far[1]))):
        torch.mul(wy, wx, out=weight[..., c, :])

    itype = torch.int32 if n * h * w * taps < 2**31 - 1 else torch.int64
    # row of the tap projection = ((n * H + y) * W + x) * T + t; corners outside the map read
    # pixel 0 (with weight 0)
    scale = torch.tensor([w * taps, taps], device=device, dtype=itype).view(2, 1, 1, 1, 1)
    far = (low + 1).mul_(in_far).to(itype).mul_(scale)
    near = low.mul_(in_near).to(itype).mul_(scale)
    first = (torch.arange(n, device=device, dtype=itype) * (h * w * taps)).view(n, 1, 1, 1) + \
        torch.arange(taps, device=device, dtype=itype).view(1, 1, 1, taps)
    y0, y1 = near[0].add_(first), far[0].add_(first)
    index = torch.empty((n, ho, wo, 4, taps), device=device, dtype=itype)
    for c, (y, x) in enumerate(((y0, near[1]), (y0, far[1]), (y1, near[1]), (y1, far[1]))):
        torch.add(y, x, out=index[..., c, :])
    pixels = n * ho * wo
    return (index.view(pixels, 4 * taps), weight.view(pixels, 4 * taps), w_near, w_far,
            in_near, in_far, msk)


class _SamplingTable(torch.autograd.Function):
    """:func:`_table` with its gradient w.r.t. offsets and mask written out.

    ``weight[a, b] = mask * wy[a] * wx[b]`` with ``wy = (1 - fy, fy)`` (``fy`` the fractional
    part of the y position) where the corner contributes, else 0; so with ``G`` the gradient of
    ``weight``: ``d/d mask = sum G wy wx``, ``d/d y = mask * sum G wy' wx`` with
    ``wy' = (-1, 1)`` where the corner contributes, and the same for x. Both directions run on one
    CPU thread (see :func:`_one_cpu_thread`).
    """

    @staticmethod
    def forward(ctx, offset: Tensor, mask: Tensor, meta: tuple) -> Tuple[Tensor, Tensor]:
        with _one_cpu_thread(offset.device):
            index, weight, w_near, w_far, in_near, in_far, msk = _table(offset, mask, *meta)
        ctx.save_for_backward(w_near, w_far, in_near, in_far, msk)
        ctx.mark_non_differentiable(index)
        return index, weight

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_index: Optional[Tensor], grad_weight: Tensor):
        w_near, w_far, in_near, in_far, msk = ctx.saved_tensors
        n, ho, wo, taps = msk.shape
        with _one_cpu_thread(msk.device):
            g00, g01, g10, g11 = grad_weight.reshape(n, ho, wo, 4, taps).unbind(-2)
            (wy0, wx0), (wy1, wx1) = w_near, w_far
            # gradient of each axis' corner weights (summed over the other axis' corners)
            gy0, gy1 = g00 * wx0 + g01 * wx1, g10 * wx0 + g11 * wx1
            gx0, gx1 = g00 * wy0 + g10 * wy1, g01 * wy0 + g11 * wy1
            grad_mask = gy0 * wy0 + gy1 * wy1
            (in_y0, in_x0), (in_y1, in_x1) = in_near, in_far
            zero = gy0.new_zeros(())
            grad_y = (torch.where(in_y1, gy1, zero) - torch.where(in_y0, gy0, zero)) * msk
            grad_x = (torch.where(in_x1, gx1, zero) - torch.where(in_x0, gx0, zero)) * msk
            grad_offset = torch.stack([grad_y, grad_x], -1).permute(0, 3, 4, 1, 2).reshape(
                n, 2 * taps, ho, wo)
            grad_mask = grad_mask.permute(0, 3, 1, 2).contiguous()
        return grad_offset, grad_mask, None


def sampling_table(offset: Tensor, mask: Tensor, in_size: Tuple[int, int],
                   kernel_size: Tuple[int, int], stride: Tuple[int, int],
                   padding: Tuple[int, int], dilation: Tuple[int, int],
                   deform_groups: int = 1) -> Tuple[Tensor, Tensor]:
    """Bilinear sampling of a modulated deformable convolution as sparse rows.

    Args:
        offset: (N, deform_groups * kh * kw * 2, Ho, Wo) offsets, mmcv's layout: for every
            deformable group and kernel tap (row-major) the pair ``(dy, dx)``.
        mask: (N, deform_groups * kh * kw, Ho, Wo) modulation weights.
        in_size: ``(H, W)`` of the input map.
        kernel_size, stride, padding, dilation: ``(h, w)`` pairs of the convolution.
        deform_groups: Deformable groups.

    Returns:
        ``(index, weight)``, each (N * Ho * Wo, 4 * T) with ``T = deform_groups * kh * kw``:
        for output pixel ``p = (n * Ho + y) * Wo + x`` and entry ``c * T + t`` (corner ``c`` of
        (top-left, top-right, bottom-left, bottom-right), tap ``t``), the row
        ``(n * H * W + pixel) * T + t`` of the tap projection (:func:`tap_projection`) and its
        weight (bilinear weight times mask, 0 for corners outside the map). ``index`` is int32
        when it fits, else int64; ``weight`` is differentiable w.r.t. ``offset`` and ``mask``.
    """
    meta = (tuple(in_size), tuple(kernel_size), tuple(stride), tuple(padding), tuple(dilation),
            int(deform_groups))
    return _SamplingTable.apply(offset, mask, meta)


def tap_projection(x: Tensor, weight: Tensor, deform_groups: int = 1,
                   out: Optional[Tensor] = None) -> Tensor:
    """Every kernel tap of ``weight`` applied as a 1x1 convolution to every input pixel.

    Args:
        x: (N, C, H, W) input.
        weight: (O, C, kh, kw) convolution weight (``groups == 1``).
        deform_groups: Deformable groups (input channels split into this many blocks, each
            sampled at its own positions).
        out: Optional 1-d buffer of at least ``N * H * W * T * O`` elements to write into (no
            autograd through it).

    Returns:
        (N * H * W * T, O) with ``T = deform_groups * kh * kw``: row ``(n * H * W + q) * T + t``
        holds tap ``t = g * kh * kw + k`` of deformable group ``g`` applied to pixel ``q``
        (channels of group ``g`` only).
    """
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    k = kh * kw
    rows = x.permute(0, 2, 3, 1).reshape(n * h * w, c)  # free for channels-last inputs
    if deform_groups == 1:
        wmat = weight.permute(1, 2, 3, 0).reshape(c, k * o)
        if out is not None:
            buf = out[:rows.shape[0] * k * o].view(rows.shape[0], k * o)
            return torch.mm(rows, wmat, out=buf).view(-1, o)
        return torch.mm(rows, wmat).view(-1, o)
    cg = c // deform_groups
    wmat = weight.reshape(o, deform_groups, cg, k).permute(1, 2, 3, 0).reshape(
        deform_groups, cg, k * o)
    proj = torch.bmm(rows.view(-1, deform_groups, cg).transpose(0, 1), wmat)
    return proj.transpose(0, 1).reshape(-1, o)


def _transposed_gather(index: Tensor, weight: Tensor, grad: Tensor, num_rows: int) -> Tensor:
    """``S.T @ grad`` for the sparse matrix ``S`` of (``index``, ``weight``) rows."""
    per_row = index.shape[1]
    with _one_cpu_thread(index.device):  # sorting and counting: serial work
        keys, order = torch.sort(index.reshape(-1))
        bags = torch.div(order, per_row, rounding_mode='floor').to(index.dtype)
        counts = torch.bincount(keys, minlength=num_rows)
        starts = counts.new_zeros(num_rows + 1)
        torch.cumsum(counts, 0, out=starts[1:])
        starts = starts.to(index.dtype)
        sorted_weight = weight.reshape(-1)[order]
    return F.embedding_bag(bags, grad, starts, mode='sum', per_sample_weights=sorted_weight,
                           include_last_offset=True)


@contextlib.contextmanager
def _one_cpu_thread(device: torch.device):
    """Run the enclosed CPU operations on the calling thread only.

    The sampling table (and the sorting in the backward pass) is a few dozen operations on a few
    hundred thousand values each. On an idle machine a second thread would save a few ms per
    large layer; on a busy one every parallel region can wait for a descheduled worker, which
    made these steps several times slower with two threads than with one. The thread count is
    restored right after (setting it costs well under a microsecond).
    """
    threads = torch.get_num_threads()
    if device.type != 'cpu' or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


_WORKSPACE = threading.local()


def _workspace(numel: int, like: Tensor) -> Tensor:
    """A reusable CPU buffer for inference (one per thread and dtype).

    The tap projection of a large map is tens of MB; a fresh buffer of that size is mapped anew
    by the C allocator on every call and its first write costs a page fault per 4 KiB, about as
    long as the matrix product itself. The buffer is kept, grown when needed.
    """
    buffers = getattr(_WORKSPACE, 'buffers', None)
    if buffers is None:
        buffers = _WORKSPACE.buffers = {}
    buf = buffers.get(like.dtype)
    if buf is None or buf.numel() < numel:
        buffers[like.dtype] = buf = torch.empty(numel, dtype=like.dtype)
    return buf


class _SampleTaps(torch.autograd.Function):
    """``out[p] = sum_j weight[p, j] * proj[index[p, j]]`` with a transposed-gather backward."""

    @staticmethod
    def forward(ctx, index: Tensor, weight: Tensor, proj: Tensor) -> Tensor:
        ctx.save_for_backward(index, weight, proj)
        return F.embedding_bag(index, proj, per_sample_weights=weight, mode='sum')

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> Tuple[None, Optional[Tensor], Optional[Tensor]]:
        index, weight, proj = ctx.saved_tensors
        grad = grad.contiguous()
        grad_weight = grad_proj = None
        if ctx.needs_input_grad[1]:
            # d out[p] / d weight[p, j] = proj[index[p, j]]: torch's fused kernel for exactly
            # this (the per-sample-weights gradient of embedding_bag), reached through autograd
            with torch.enable_grad():
                w = weight.detach().requires_grad_()
                out = F.embedding_bag(index, proj.detach(), per_sample_weights=w, mode='sum')
                grad_weight, = torch.autograd.grad(out, w, grad)
        if ctx.needs_input_grad[2]:
            grad_proj = _transposed_gather(index, weight, grad, proj.shape[0])
        return None, grad_weight, grad_proj


def modulated_deform_conv2d_fast(x: Tensor,
                                 offset: Tensor,
                                 mask: Tensor,
                                 weight: Tensor,
                                 bias: Optional[Tensor] = None,
                                 stride: IntPair = 1,
                                 padding: IntPair = 0,
                                 dilation: IntPair = 1,
                                 deform_groups: int = 1,
                                 relu: bool = False,
                                 mask_logits: bool = False) -> Tensor:
    """mmcv's ``modulated_deform_conv2d`` (with ``groups == 1``) as large tensor operations.

    Args:
        x: (N, C, H, W) input.
        offset: (N, deform_groups * kh * kw * 2, Ho, Wo) offsets (``(dy, dx)`` per tap).
        mask: (N, deform_groups * kh * kw, Ho, Wo) modulation (after the sigmoid).
        weight: (O, C, kh, kw).
        bias: (O, ) or ``None``.
        stride, padding, dilation: As ``torch.nn.functional.conv2d``.
        deform_groups: Deformable groups (must divide C).
        relu: Apply a ReLU to the result (fused into the compiled kernel where it runs).
        mask_logits: ``mask`` holds logits and the sigmoid is applied here (in the compiled
            kernel where it runs).

    Returns:
        (N, O, Ho, Wo), in the dtype of ``offset`` (mmcv's rule, which keeps AMP working), or in
        autocast's dtype where autocast is on (float32 offsets, reduced-precision products). The
        result is stored channels-last (a permuted view), which the following convolutions and
        deformable convolutions consume without copies.
    """
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    if x.dim() != 4:
        raise ValueError(f'expected a 4-d input, got {x.dim()} dimensions')
    n, c, h, w = x.shape
    o, c_w, kh, kw = weight.shape
    if c_w != c:
        raise ValueError(f'weight expects {c_w} input channels (groups > 1 is not supported), '
                         f'the input has {c}')
    if c % deform_groups:
        raise ValueError(f'deform_groups={deform_groups} does not divide {c} input channels')
    taps = deform_groups * kh * kw
    ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    if tuple(offset.shape) != (n, 2 * taps, ho, wo) or tuple(mask.shape) != (n, taps, ho, wo):
        raise ValueError(f'offset {tuple(offset.shape)} / mask {tuple(mask.shape)} do not fit '
                         f'an output of {(n, o, ho, wo)} with {taps} sampling points')
    dtype = offset.dtype
    if torch.is_autocast_enabled(x.device.type):
        # the products follow autocast even where the offsets were kept float32 (the reduced
        # precision policy keeps the offset convolutions float32)
        dtype = torch.get_autocast_dtype(x.device.type)
    tensors = (x, offset, mask, weight, bias)
    training = torch.is_grad_enabled() and any(t is not None and t.requires_grad
                                               for t in tensors)
    x, weight = x.to(dtype), weight.to(dtype)
    if not training:  # inference: the projection goes to a reused buffer, consumed at once
        ws = None
        if x.device.type == 'cpu' and deform_groups == 1:
            ws = _workspace(n * h * w * taps * o, x)
        proj = tap_projection(x, weight, deform_groups, out=ws)
        if (x.device.type == 'cpu' and dtype in (torch.float32, torch.bfloat16)
                and proj.shape[0] < 2**31 and load_compiled_ops()):
            # table and gather fused in the compiled kernel (ops/compiled.py), the sampling
            # positions and the bias (as given, uncast) in float32 whatever the products' dtype
            out = deform_gather(proj, offset, mask, bias, (h, w), (kh, kw), stride, padding,
                                dilation, deform_groups, relu, mask_logits)
            return out.view(n, ho, wo, o).permute(0, 3, 1, 2)
    bias = None if bias is None else bias.to(dtype)
    if mask_logits:
        mask = torch.sigmoid(mask)
    mask = mask.to(dtype)
    if dtype in (torch.bfloat16, torch.float16):
        # Half-precision sampling positions would be off by up to half a pixel on large maps
        # (8 or 11 significant bits for row + offset): the table is built in float32 and only
        # its weights are rounded, for the half-precision products and gathers.
        index, wts = sampling_table(offset.float(), mask.float(), (h, w), (kh, kw), stride,
                                    padding, dilation, deform_groups)
        wts = wts.to(dtype)
    else:
        index, wts = sampling_table(offset, mask, (h, w), (kh, kw), stride, padding, dilation,
                                    deform_groups)
    if training:
        proj = tap_projection(x, weight, deform_groups)
        out = _SampleTaps.apply(index, wts, proj)
        if bias is not None:
            out = out + bias
        if relu:
            out = torch.relu(out)
    else:
        out = F.embedding_bag(index, proj, per_sample_weights=wts, mode='sum')
        if bias is not None:
            out.add_(bias)
        if relu:
            out.relu_()
    return out.view(n, ho, wo, o).permute(0, 3, 1, 2)


# ---------------------------------------------------------------------- selection
_MMCV_CUDA: Optional[bool] = None
_LOGGED = set()


def mmcv_has_cuda_ops() -> bool:
    """Whether mmcv's compiled ops include the CUDA kernels."""
    global _MMCV_CUDA
    if _MMCV_CUDA is None:
        try:
            from mmcv.ops import get_compiling_cuda_version
            _MMCV_CUDA = get_compiling_cuda_version() not in ('not available', '', None)
        except Exception:  # noqa: BLE001  (no compiled ops at all)
            _MMCV_CUDA = False
    return _MMCV_CUDA


def unsupported_reason(groups: int, deform_groups: int, in_channels: int) -> Optional[str]:
    """Why the fast path cannot compute a layer configuration, or ``None`` if it can."""
    if groups != 1:
        return f'groups={groups} (only groups=1 is implemented)'
    if deform_groups < 1 or in_channels % deform_groups:
        return f'deform_groups={deform_groups} with {in_channels} input channels'
    return None


def choose_impl(impl: str, device_type: str, reason: Optional[str] = None) -> str:
    """The implementation a layer runs: ``'fast'`` (this module) or ``'mmcv'``.

    Rule: ``impl='mmcv'`` always, and any layer configuration the fast path does not support
    (``reason`` set), run mmcv's op. ``impl='fast'`` runs this module on every device.
    ``impl='auto'`` runs this module on CPU; on CUDA it runs mmcv's fused CUDA kernel when mmcv
    was compiled with it (one kernel launch, no ``pixels x taps x channels`` intermediate) and
    this module otherwise; on other devices (NPU, MLU, ...) mmcv's op, which has kernels there.
    """
    if impl not in DCN_IMPLS:
        raise ValueError(f'impl must be one of {DCN_IMPLS}, got {impl!r}')
    if impl == 'mmcv' or reason is not None:
        return 'mmcv'
    if impl == 'fast' or device_type == 'cpu':
        return 'fast'
    if device_type == 'cuda':
        return 'mmcv' if mmcv_has_cuda_ops() else 'fast'
    return 'mmcv'


def _log_once(message: str) -> None:
    if message not in _LOGGED:
        _LOGGED.add(message)
        print_log(message, logger='current')


@MODELS.register_module('DCNv2Fast')
class FastModulatedDeformConv2dPack(ModulatedDeformConv2dPack):
    """mmcv's ``DCNv2`` layer (``ModulatedDeformConv2dPack``) with a fast CPU path.

    Same arguments, parameters (``weight``, ``bias``, ``conv_offset.weight``,
    ``conv_offset.bias``), initialisation and checkpoint format as ``DCNv2``; the offsets are
    channels ``0 .. 2T-1`` of ``conv_offset``'s output and the mask the sigmoid of the rest.

    Args:
        *args, **kwargs: As mmcv's ``ModulatedDeformConv2dPack``.
        impl: ``'auto'`` (default), ``'fast'`` or ``'mmcv'``; see :func:`choose_impl`. A layer
            configuration the fast path does not support (``groups > 1``) always uses mmcv's op,
            announced by one log line.
    """

    def __init__(self, *args, impl: str = 'auto', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if impl not in DCN_IMPLS:
            raise ValueError(f'impl must be one of {DCN_IMPLS}, got {impl!r}')
        self.impl = impl
        self.unsupported = unsupported_reason(self.groups, self.deform_groups, self.in_channels)
        if self.unsupported is not None and impl != 'mmcv':
            _log_once(f'DCNv2Fast: {self.unsupported} is not supported by the fast path; '
                      f"these layers run mmcv's modulated_deform_conv2d")

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return self.forward_with_weights(x, self.weight, self.bias)

    def forward_with_weights(self, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                             relu: bool = False) -> Tensor:
        """:meth:`forward` with ``weight`` / ``bias`` in place of the layer's own (the offsets
        still come from ``conv_offset``) and optionally the following ReLU applied; used by
        inference conversions that fold the batch norm and ReLU after the layer into it
        (:mod:`mmcenternet.models.utils.folding`)."""
        out = self.conv_offset(x)
        num_offsets = 2 * self.deform_groups * self.kernel_size[0] * self.kernel_size[1]
        offset = out[:, :num_offsets]
        if choose_impl(self.impl, x.device.type, self.unsupported) == 'fast':
            return modulated_deform_conv2d_fast(x, offset, out[:, num_offsets:], weight, bias,
                                                self.stride, self.padding, self.dilation,
                                                self.deform_groups, relu=relu, mask_logits=True)
        mask = torch.sigmoid(out[:, num_offsets:])
        # mmcv's kernels read raw memory: they need contiguous (N, C, H, W) tensors
        out = modulated_deform_conv2d(x.contiguous(), offset.contiguous(), mask.contiguous(),
                                      weight, bias, self.stride, self.padding, self.dilation,
                                      self.groups, self.deform_groups)
        return out.relu_() if relu else out

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, '
                f'stride={self.stride}, padding={self.padding}, dilation={self.dilation}, '
                f'groups={self.groups}, deform_groups={self.deform_groups}, '
                f'bias={self.bias is not None}, impl={self.impl!r}')
