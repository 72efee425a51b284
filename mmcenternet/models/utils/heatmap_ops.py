# Copyright (c) mmcenternet contributors. All rights reserved.
"""Tensor-only helpers shared by CenterNet's decoders (peaks, top-K, gathering, flips)."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _window3_max(x: Tensor, dim: int) -> Tensor:
    """Maximum over the 3-window centred on every entry along ``dim`` (clipped at the ends)."""
    n = x.shape[dim]
    if n == 1:
        return x
    pairs = torch.maximum(x.narrow(dim, 0, n - 1), x.narrow(dim, 1, n - 1))  # max(x[i], x[i+1])
    out = torch.empty_like(x)
    if n > 2:
        torch.maximum(pairs.narrow(dim, 0, n - 2), pairs.narrow(dim, 1, n - 2),
                      out=out.narrow(dim, 1, n - 2))
    out.narrow(dim, 0, 1).copy_(pairs.narrow(dim, 0, 1))
    out.narrow(dim, n - 1, 1).copy_(pairs.narrow(dim, n - 2, 1))
    return out


def window_max(heat: Tensor, kernel: int = 3) -> Tensor:
    """``F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)``, bit for bit.

    For odd windows the maximum is separable and a (2r + 1)-window is r 3-windows in a row, so it
    takes a few element-wise maxima over the map; torch's CPU max-pooling of an 80-class map is an
    order of magnitude slower. Even windows (whose output is smaller than the map) and traced or
    exported graphs (where one ``MaxPool`` node is the better graph) use max-pooling.

    Args:
        heat: (B, C, H, W) scores.
        kernel: Window side.

    Returns:
        (B, C, H, W) window maxima.
    """
    if kernel % 2 == 0 or heat.dim() != 4 or torch.jit.is_tracing() or \
            torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling():
        return F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    out = heat
    for dim in (3, 2):
        for _ in range((kernel - 1) // 2):
            out = _window3_max(out, dim)
    return out


def heatmap_nms(heat: Tensor, kernel: int = 3) -> Tensor:
    """Keep only local maxima of a heatmap (max-pool equality; plateaus keep every maximum).

    Args:
        heat: (B, C, H, W) scores.
        kernel: Max-pool window.

    Returns:
        (B, C, H, W) scores, zero where the pixel is not the maximum of its window.
    """
    hmax = window_max(heat, kernel)
    return heat * (hmax == heat).to(heat.dtype)


def peak_cells(logits: Tensor, k: int = 100) -> set:
    """The top-``k`` peaks of the first image's heat-map logits (C, H, W) after the 3x3 peak
    test, as flat ``class * H * W + y * W + x`` indices: what precision checks compare."""
    flat = heatmap_nms(logits.float().sigmoid(), 3)[0].flatten()
    return set(torch.topk(flat, min(k, flat.numel())).indices.tolist())


def topk_two_stage(scores: Tensor, k: int) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Top-K over classes and positions, first per class then overall (CenterNet's ``_topk``).

    The selected set equals a single top-K over C*H*W values; doing it in two stages keeps the
    original's order among equal scores.

    Args:
        scores: (B, C, H, W).
        k: Number of peaks (clamped to C*H*W ... per stage as available).

    Returns:
        ``(scores, inds, labels, ys, xs)``, each (B, K): descending scores, flat spatial index
        ``y * W + x`` (int64), class index (int64) and the integer position as float.
    """
    b, c, h, w = scores.shape
    k_cls = min(k, h * w)
    cls_scores, cls_inds = torch.topk(scores.reshape(b, c, h * w), k_cls)
    k_all = min(k, c * k_cls)
    top_scores, top_idx = torch.topk(cls_scores.reshape(b, -1), k_all)
    labels = torch.div(top_idx, k_cls, rounding_mode='floor')
    inds = cls_inds.reshape(b, -1).gather(1, top_idx)
    ys = torch.div(inds, w, rounding_mode='floor').to(scores.dtype)
    xs = (inds % w).to(scores.dtype)
    return top_scores, inds, labels, ys, xs


def topk_per_channel(scores: Tensor, k: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Top-K positions of every channel separately (for joint heatmaps).

    Args:
        scores: (B, J, H, W).
        k: Peaks per channel.

    Returns:
        ``(scores, inds, ys, xs)``, each (B, J, K).
    """
    b, j, h, w = scores.shape
    top_scores, inds = torch.topk(scores.reshape(b, j, h * w), min(k, h * w))
    ys = torch.div(inds, w, rounding_mode='floor').to(scores.dtype)
    xs = (inds % w).to(scores.dtype)
    return top_scores, inds, ys, xs


def gather_feat(feat: Tensor, inds: Tensor) -> Tensor:
    """Read the channel vectors of a map at flat spatial indices.

    Args:
        feat: (B, D, H, W) map.
        inds: (B, M) indices ``y * W + x``.

    Returns:
        (B, M, D) values.
    """
    b, d = feat.shape[:2]
    flat = feat.reshape(b, d, -1)
    return flat.gather(2, inds.unsqueeze(1).expand(b, d, inds.shape[1])).permute(0, 2, 1)


def flip_back(feat: Tensor, flip_pairs: Optional[Sequence[Sequence[int]]] = None,
              negate_x_of: Optional[int] = None) -> Tensor:
    """Mirror maps of a horizontally flipped input back to the original orientation.

    Args:
        feat: (B, C, H, W) maps predicted on mirrored inputs.
        flip_pairs: Channel groups whose left/right members must be swapped (e.g. joints).
        negate_x_of: If given, the channels form (C / negate_x_of, negate_x_of) groups whose first
            entry is an x offset that changes sign (CenterNet's ``flip_lr_off`` with 2).

    Returns:
        (B, C, H, W) maps.
    """
    out = feat.flip(-1)
    if negate_x_of is not None:
        b, c, h, w = out.shape
        out = out.reshape(b, c // negate_x_of, negate_x_of, h, w).clone()
        out[:, :, 0] = -out[:, :, 0]
        if flip_pairs:
            idx = list(range(out.shape[1]))
            for a, bb in flip_pairs:
                idx[a], idx[bb] = bb, a
            out = out[:, idx]
        return out.reshape(b, c, h, w)
    if flip_pairs:
        idx = list(range(out.shape[1]))
        for a, bb in flip_pairs:
            idx[a], idx[bb] = bb, a
        out = out[:, idx]
    return out
