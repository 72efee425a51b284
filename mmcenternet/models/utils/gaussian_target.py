# Copyright (c) mmcenternet contributors. All rights reserved.
"""Gaussian radius and drawing exactly as CenterNet computes its training targets, batched."""
from typing import Sequence, Tuple

import numpy as np
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


def corrected_gaussian_radius(height: Tensor, width: Tensor, min_overlap: float = 0.7) -> Tensor:
    """The radius rule with the roots the derivation intends (a known fix of the original's
    formula, never merged there): ``(b - sqrt(b^2 - 4ac)) / (2a)`` for the first two cases and
    ``(b + sqrt(...)) / (2a)`` for the third, the minimum of the three. Much smaller radii (about
    a third of the faithful ones for square boxes), i.e. sharper training peaks.

    Args:
        height: (N,) box heights in map pixels.
        width: (N,) box widths.
        min_overlap: Minimum IoU of a shifted box.

    Returns:
        (N,) float64 radii (not yet truncated).
    """
    h = height.to(torch.float64)
    w = width.to(torch.float64)
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 - torch.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 - torch.sqrt(b2**2 - 16 * c2)) / 8
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + torch.sqrt(b3**2 - 4 * a3 * c3)) / (2 * a3)
    return torch.minimum(torch.minimum(r1, r2), r3)


#: The radius rules: the original's (default) and the corrected one.
RADIUS_RULES = ('faithful', 'corrected')


def radius_from_box_size(height: Tensor, width: Tensor, min_overlap: float = 0.7,
                         rule: str = 'faithful') -> Tensor:
    """Integer training radius: ``max(0, int(radius(ceil(h), ceil(w))))`` (int64), with the
    original's rule (``'faithful'``) or :func:`corrected_gaussian_radius` (``'corrected'``)."""
    if rule not in RADIUS_RULES:
        raise ValueError(f'radius_rule must be one of {RADIUS_RULES}, got {rule!r}')
    fn = centernet_gaussian_radius if rule == 'faithful' else corrected_gaussian_radius
    r = fn(torch.ceil(height.double()), torch.ceil(width.double()), min_overlap)
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


# ---------------------------------------------------------------------------------------------
# Per-object drawing in NumPy, as the original's ``utils/image.py`` does it, for the training
# options that depend on the drawing order or on the original's other Gaussian (``mse_loss``,
# ``dense_wh``, ``dense_hp``). The model-zoo targets use the batched drawing above.
def gaussian_2d(diameter: int, sigma: float) -> np.ndarray:
    """The original's ``gaussian2D((d, d), sigma)``: float64, values below eps x max set to 0."""
    m = (diameter - 1.) / 2.
    y, x = np.ogrid[-m:m + 1, -m:m + 1]
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g


def draw_umich_gaussian_np(heatmap: np.ndarray, center: Sequence[int], radius: int) -> np.ndarray:
    """One object's Gaussian max-merged into a float32 (H, W) map (``draw_umich_gaussian``)."""
    diameter = 2 * radius + 1
    gaussian = gaussian_2d(diameter, diameter / 6)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[0:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top:y + bottom, x - left:x + right]
    masked_gaussian = gaussian[radius - top:radius + bottom, radius - left:radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        np.maximum(masked_heatmap, masked_gaussian, out=masked_heatmap)
    return heatmap


def draw_msra_gaussian_(heatmap: np.ndarray, center: Sequence[float],
                        sigma: float) -> np.ndarray:
    """The original's ``draw_msra_gaussian`` (the ``mse_loss`` targets), in place.

    A Gaussian of ``sigma`` on a square of side ``6 sigma + 1`` about the rounded centre,
    max-merged. The original names the map's rows "w" and its columns "h"; the clipping uses
    them consistently, so non-square maps are drawn correctly.

    Args:
        heatmap: (H, W) float32 map, modified in place.
        center: ``(x, y)`` (may lie outside the map: nothing is drawn then).
        sigma: Standard deviation in map pixels.
    """
    tmp_size = sigma * 3
    mu_x = int(center[0] + 0.5)
    mu_y = int(center[1] + 0.5)
    rows, cols = heatmap.shape[0], heatmap.shape[1]
    ul = [int(mu_x - tmp_size), int(mu_y - tmp_size)]
    br = [int(mu_x + tmp_size + 1), int(mu_y + tmp_size + 1)]
    if ul[0] >= cols or ul[1] >= rows or br[0] < 0 or br[1] < 0:
        return heatmap
    size = 2 * tmp_size + 1
    x = np.arange(0, size, 1, np.float32)
    y = x[:, np.newaxis]
    x0 = y0 = size // 2
    g = np.exp(-((x - x0)**2 + (y - y0)**2) / (2 * sigma**2))
    g_x = max(0, -ul[0]), min(br[0], cols) - ul[0]
    g_y = max(0, -ul[1]), min(br[1], rows) - ul[1]
    img_x = max(0, ul[0]), min(br[0], cols)
    img_y = max(0, ul[1]), min(br[1], rows)
    heatmap[img_y[0]:img_y[1], img_x[0]:img_x[1]] = np.maximum(
        heatmap[img_y[0]:img_y[1], img_x[0]:img_x[1]], g[g_y[0]:g_y[1], g_x[0]:g_x[1]])
    return heatmap


def draw_dense_reg_(regmap: np.ndarray, heatmap: np.ndarray, center: Sequence[int],
                    value: Sequence[float], radius: int, is_offset: bool = False) -> np.ndarray:
    """The original's ``draw_dense_reg`` (``dense_wh`` / ``dense_hp`` targets), in place.

    Within the object's Gaussian window, every cell where the object's Gaussian is at least the
    current heat map (all objects drawn so far, this one included) takes the object's
    ``value``; with ``is_offset`` and two values, the value minus the cell's displacement from
    the centre (an offset relative to each cell).

    Args:
        regmap: (D, H, W) float32 map, modified in place.
        heatmap: (H, W) heat map the object competes with (after drawing it).
        center: Integer centre ``(x, y)``.
        value: The D values of the object.
        radius: The object's Gaussian radius.
        is_offset: Subtract each cell's displacement (two values only).
    """
    diameter = 2 * radius + 1
    gaussian = gaussian_2d(diameter, diameter / 6)
    value = np.array(value, dtype=np.float32).reshape(-1, 1, 1)
    dim = value.shape[0]
    reg = np.ones((dim, diameter * 2 + 1, diameter * 2 + 1), dtype=np.float32) * value
    if is_offset and dim == 2:
        delta = np.arange(diameter * 2 + 1) - radius
        reg[0] = reg[0] - delta.reshape(1, -1)
        reg[1] = reg[1] - delta.reshape(-1, 1)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[0:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top:y + bottom, x - left:x + right]
    masked_regmap = regmap[:, y - top:y + bottom, x - left:x + right]
    masked_gaussian = gaussian[radius - top:radius + bottom, radius - left:radius + right]
    masked_reg = reg[:, radius - top:radius + bottom, radius - left:radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        idx = (masked_gaussian >= masked_heatmap).reshape(1, masked_gaussian.shape[0],
                                                          masked_gaussian.shape[1])
        masked_regmap = (1 - idx) * masked_regmap + idx * masked_reg
    regmap[:, y - top:y + bottom, x - left:x + right] = masked_regmap
    return regmap
