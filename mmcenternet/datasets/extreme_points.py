# Copyright (c) mmcenternet contributors. All rights reserved.
"""Extreme points (top, left, bottom, right) of COCO segmentations.

Rule for polygons (the rule of the annotation files the original ``exdet`` was trained on): over
all vertices of all polygons of an annotation (polygons in annotation order, vertices in polygon
order) take the vertex with the smallest y (top), smallest x (left), largest y (bottom) and
largest x (right). **Ties: the first such vertex** in that order. Two extreme points may be the
same vertex.

Run-length-encoded masks (crowd regions) have no vertices: the mask is decoded and the extreme
*pixels* are used (pixel ``(col, row)`` as ``(x, y)``), with ties resolved to the first pixel in
row-major order for top and bottom (the leftmost one) and in column-major order for left and right
(the topmost one).

``rule='extremenet'`` reproduces instead the files ExtremeNet's ``gen_coco_extreme_points.py``
writes (``instances_extreme_*.json``, which the published exdet models were trained on): all
vertices in one sequence (mask pixels in row-major order for RLE), closed by one extra vertex at
each end; from the first extreme vertex the band of consecutive vertices (both directions) within
2 % of the height (top, bottom) or width (left, right; ``w = max - min + 1``) of the extreme value
is collected; the point is the extreme value on its axis and ``(max + min) // 2`` of the band on
the other axis; all coordinates truncated to integers.
"""
from typing import Sequence, Union

import numpy as np

__all__ = ['extreme_points_from_polygons', 'extreme_points_from_mask',
           'extreme_points_from_segmentation', 'extremenet_band_points', 'ExtremePointsError',
           'RULES']

#: ``'first_vertex'`` (default, see above) or ``'extremenet'`` (ExtremeNet's band rule).
RULES = ('first_vertex', 'extremenet')


class ExtremePointsError(ValueError):
    """A segmentation from which no extreme points can be taken."""


def extreme_points_from_polygons(polygons: Sequence[Sequence[float]]) -> np.ndarray:
    """Extreme points of COCO polygons ``[[x0, y0, x1, y1, ...], ...]``.

    Returns:
        (4, 2) float64 ``[[x_t, y_t], [x_l, y_l], [x_b, y_b], [x_r, y_r]]``.

    Raises:
        ExtremePointsError: no polygon with at least one complete vertex.
    """
    verts = [np.asarray(p, dtype=np.float64).reshape(-1)[:len(p) // 2 * 2].reshape(-1, 2)
             for p in polygons if len(p) >= 2]
    if not verts:
        raise ExtremePointsError('no polygon vertex')
    v = np.concatenate(verts, 0)
    # np.argmin / np.argmax return the first occurrence: the documented tie rule.
    idx = [np.argmin(v[:, 1]), np.argmin(v[:, 0]), np.argmax(v[:, 1]), np.argmax(v[:, 0])]
    return v[idx].copy()


def extreme_points_from_mask(mask: np.ndarray) -> np.ndarray:
    """Extreme pixels of a binary (H, W) mask (ties: see the module docstring).

    Raises:
        ExtremePointsError: empty mask.
    """
    ys, xs = np.nonzero(mask)  # row-major order: by y, then x
    if len(xs) == 0:
        raise ExtremePointsError('empty mask')
    bottom = int(np.searchsorted(ys, ys[-1]))  # first pixel of the last row
    order = np.lexsort((ys, xs))  # column-major order: by x, then y
    right = order[int(np.searchsorted(xs[order], xs[order[-1]]))]  # top pixel of the last column
    idx = [0, order[0], bottom, right]
    return np.stack([xs[idx], ys[idx]], axis=1).astype(np.float64)


def extremenet_band_points(pts: np.ndarray, band: float = 0.02) -> np.ndarray:
    """ExtremeNet's rule (module docstring) on an ordered (N, 2) vertex sequence.

    Returns:
        (4, 2) float64 integer-valued points (top, left, bottom, right).
    """
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ExtremePointsError('no polygon vertex')
    lo, hi = pts.min(0), pts.max(0)
    extent = hi - lo + 1  # (w, h)
    ring = np.concatenate([pts[-1:], pts, pts[:1]], 0)

    def band_mid(axis: int, pick_max: bool) -> float:
        vals = ring[:, axis]
        start = int(np.argmax(vals) if pick_max else np.argmin(vals))
        ref = vals[start]
        close = (ref - vals if pick_max else vals - ref) <= band * extent[axis]
        first = last = start
        while last + 1 < len(ring) and close[last + 1]:
            last += 1
        while first - 1 >= 0 and close[first - 1]:
            first -= 1
        other = ring[first:last + 1, 1 - axis]
        return (other.max() + other.min()) // 2

    out = np.array([[band_mid(1, False), lo[1]], [lo[0], band_mid(0, False)],
                    [band_mid(1, True), hi[1]], [hi[0], band_mid(0, True)]])
    return out.astype(np.int32).astype(np.float64)


def extreme_points_from_segmentation(segmentation: Union[list, dict], height: int, width: int,
                                     rule: str = 'first_vertex') -> np.ndarray:
    """Extreme points of a COCO ``segmentation`` (polygon list or RLE dict).

    Args:
        segmentation: COCO polygons ``[[x0, y0, ...], ...]`` or an RLE dict.
        height, width: Image size (to decode uncompressed RLE).
        rule: ``'first_vertex'`` or ``'extremenet'`` (module docstring).

    Raises:
        ExtremePointsError: missing, empty or unreadable segmentation.
    """
    if rule not in RULES:
        raise ValueError(f'rule must be one of {RULES}, got {rule!r}')
    if isinstance(segmentation, list):
        if not segmentation or not any(len(p) >= 2 for p in segmentation):
            raise ExtremePointsError('empty polygon list')
        if rule == 'first_vertex':
            return extreme_points_from_polygons(segmentation)
        verts = np.concatenate([np.asarray(p, np.float64)[:len(p) // 2 * 2] for p in segmentation])
        return extremenet_band_points(verts.reshape(-1, 2))
    if isinstance(segmentation, dict) and 'counts' in segmentation:
        from pycocotools import mask as mask_utils
        rle = segmentation
        if isinstance(rle['counts'], list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(rle, height, width)
        mask = mask_utils.decode(rle)
        if rule == 'first_vertex':
            return extreme_points_from_mask(mask)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ExtremePointsError('empty mask')
        return extremenet_band_points(np.stack([xs, ys], 1))
    raise ExtremePointsError(f'unsupported segmentation of type {type(segmentation).__name__}')
