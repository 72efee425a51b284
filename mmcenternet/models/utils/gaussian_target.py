# Copyright (c) mmcenternet contributors. All rights reserved.
"""Gaussian radius and drawing exactly as CenterNet computes its training targets, batched."""
from typing import Tuple

import torch
from torch import Tensor


def centernet_gaussian_radius(height: Tensor, width: Tensor, min_overlap: float = 0.7) -> Tensor:
    """CenterNet's (CornerNet's) radius rule, including its deviation from the exact roots.

    Each candidate is ``(b + sqrt(b^2 - 4ac)) / 2``, never divided by ``2a``; the minimum of the
    three is returned. Evaluated in float64 with the original operation order, so results are
    bit-identical. mmdet's ``gaussian_radius`` implements the corrected formula and gives other
    (smaller) radii.

    Args:
        height: (N,) box heights in map pixels (CenterNet passes ``ceil(h)``).
        width: (N,) box widths.
        min_overlap: Minimum IoU of a shifted box (0.7 in CenterNet).

    Returns:
        (N,) float64 radii (not yet truncated).
    """
    h = height.to(torch.float64)
    w = width.to(torch.float64)
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt(b1**2 - 4 * 1 * c1)) / 2
    a2 = 4
    b2 = 2 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 + torch.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + torch.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return torch.minimum(torch.minimum(r1, r2), r3)


def radius_from_box_size(height: Tensor, width: Tensor, min_overlap: float = 0.7) -> Tensor:
    """Integer training radius: ``max(0, int(radius(ceil(h), ceil(w))))`` (int64)."""
    r = centernet_gaussian_radius(torch.ceil(height.double()), torch.ceil(width.double()),
                                  min_overlap)
    return torch.clamp(torch.trunc(r), min=0).to(torch.int64)


def draw_gaussians_(heatmap: Tensor, map_index: Tensor, centers: Tensor,
                    radii: Tensor) -> Tensor:
    """Max-merge one Gaussian per object into a stack of maps (``draw_umich_gaussian``), in place.

    The kernel of object ``n`` has side ``2r + 1`` and sigma ``(2r + 1) / 6``, is computed in float64
    and clipped at the map border; overlapping kernels combine by element-wise maximum, so the order
    of objects does not matter. Objects are processed in a handful of radius buckets (powers of
    two), each as one batched scatter, never one object at a time.

    Args:
        heatmap: (M, H, W) float maps (e.g. ``(B * C, H, W)``), modified in place.
        map_index: (N,) int64 map of each object.
        centers: (N, 2) int64 centres ``(x, y)``; they may lie outside the map.
        radii: (N,) int64 radii (0 draws a single 1).

    Returns:
        ``heatmap``.
    """
    if map_index.numel() == 0:
        return heatmap
    m, h, w = heatmap.shape
    flat = heatmap.view(-1)
    bucket = torch.floor(torch.log2(radii.to(torch.float64) + 1)).to(torch.int64)
    for b in torch.unique(bucket).tolist():
        sel = bucket == b
        r_max = (1 << (b + 1)) - 1  # largest radius of the bucket
        _draw_chunk(flat, h, w, map_index[sel], centers[sel], radii[sel], r_max)
    return heatmap


def _draw_chunk(flat: Tensor, h: int, w: int, map_index: Tensor, centers: Tensor, radii: Tensor,
                r_max: int) -> None:
    r_max = min(r_max, int(radii.max()))
    offs = torch.arange(-r_max, r_max + 1, device=flat.device)
    dy, dx = torch.meshgrid(offs, offs, indexing='ij')
    dy = dy.reshape(1, -1)
    dx = dx.reshape(1, -1)
    r = radii.reshape(-1, 1)
    sigma = (2 * r + 1).to(torch.float64) / 6
    g = torch.exp(-(dx * dx + dy * dy).to(torch.float64) / (2 * sigma * sigma))
    x = centers[:, 0:1] + dx
    y = centers[:, 1:2] + dy
    valid = (dx.abs() <= r) & (dy.abs() <= r) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
    target = map_index.reshape(-1, 1) * (h * w) + y * w + x
    values = g.to(flat.dtype)
    flat.scatter_reduce_(0, target[valid], values[valid], reduce='amax', include_self=True)


def gaussian_kernel(radius: int) -> Tuple[Tensor, int]:
    """The (2r+1, 2r+1) float64 kernel of :func:`draw_gaussians_` (for inspection and tests)."""
    offs = torch.arange(-radius, radius + 1, dtype=torch.float64)
    sigma = (2 * radius + 1) / 6
    g = torch.exp(-(offs[None] ** 2 + offs[:, None] ** 2) / (2 * sigma * sigma))
    return g, radius
