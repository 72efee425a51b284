# Copyright (c) mmcenternet contributors. All rights reserved.
"""Mapping predictions from network-input pixels back to the image (every task, every view)."""
from typing import Optional, TypeVar, Union

import numpy as np
import torch
from torch import Tensor

__all__ = ['map_points_to_image', 'project_to_image']

Points = TypeVar('Points', Tensor, np.ndarray)


def map_points_to_image(points: Points, homography: Union[np.ndarray, list]) -> Points:
    """Map (..., 2) network-input points to the image with the inverse of ``homography``.

    ``homography`` (3x3, image -> network input) is what the pipelines record (mmdet's
    ``Resize`` / ``RandomFlip``, mmcenternet's padding, test resize and training affine).
    Computed in float64; the result keeps the input's type (tensor or array), dtype and device.

    Args:
        points: (..., 2) ``(x, y)`` points, a tensor or an array.
        homography: (3, 3) image -> input matrix.

    Returns:
        (..., 2) points in image pixels.
    """
    inv = np.linalg.inv(np.asarray(homography, dtype=np.float64))
    if isinstance(points, Tensor):
        m = torch.as_tensor(inv, device=points.device)
        flat = points.to(torch.float64).reshape(-1, 2)
        flat = torch.cat([flat, flat.new_ones(len(flat), 1)], dim=1) @ m.T
        out = flat[:, :2] / flat[:, 2:3]
        return out.reshape(points.shape).to(points.dtype)
    pts = np.asarray(points, dtype=np.float64)
    flat = pts.reshape(-1, 2)
    out = (flat @ inv[:2, :2].T + inv[:2, 2]) / (flat @ inv[2, :2] + inv[2, 2])[:, None]
    return out.reshape(pts.shape).astype(np.asarray(points).dtype, copy=False)


def project_to_image(bboxes: Points, img_meta: dict) -> Points:
    """Map (N, 4) boxes from network-input pixels back to the original image.

    Uses the pipeline's ``homography_matrix`` when present (each corner through
    :func:`map_points_to_image`), otherwise divides by ``scale_factor``; no clipping and no
    re-ordering of corners (CenterNet returns boxes as decoded).

    Args:
        bboxes: (N, 4) boxes in input pixels (tensor or array).
        img_meta: Image meta information.

    Returns:
        (N, 4) boxes in original-image pixels.
    """
    matrix: Optional[np.ndarray] = img_meta.get('homography_matrix')
    if matrix is not None:
        return map_points_to_image(bboxes.reshape(-1, 2, 2), matrix).reshape(-1, 4)
    scale = img_meta.get('scale_factor')
    if scale is None:
        return bboxes
    scale = np.tile(np.asarray(scale, dtype=np.float64), 2)[:4] if len(scale) == 2 else \
        np.asarray(scale, dtype=np.float64)
    if isinstance(bboxes, Tensor):
        return bboxes / bboxes.new_tensor(scale)
    return (bboxes / scale.astype(bboxes.dtype)).astype(bboxes.dtype)
