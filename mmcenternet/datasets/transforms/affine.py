# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's affine geometry: crop/scale matrices, point mapping and the border rule.

These reproduce the original's arithmetic (float32 point pairs through ``cv2.getAffineTransform``)
so that warped images and transformed annotations are bit-identical to the original's.
"""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'get_affine_transform', 'affine_transform', 'get_border', 'rotate_point', 'warp_image',
    'sample_crop'
]


def rotate_point(point: Sequence[float], rot_rad: float) -> np.ndarray:
    """Rotate a 2-D vector by ``rot_rad`` radians (counter-clockwise in image axes)."""
    sn, cs = np.sin(rot_rad), np.cos(rot_rad)
    return np.array([point[0] * cs - point[1] * sn, point[0] * sn + point[1] * cs])


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return b + np.array([-d[1], d[0]], dtype=np.float32)


def get_affine_transform(center: Sequence[float],
                         scale: Union[float, Sequence[float], np.ndarray],
                         rot: float,
                         output_size: Sequence[int],
                         shift: Sequence[float] = (0.0, 0.0),
                         inv: bool = False) -> np.ndarray:
    """The 2x3 matrix that maps a square of side ``scale`` around ``center`` onto the output.

    Only the first entry of a two-element ``scale`` is used (the original's behaviour); the map
    is ``output_w / scale`` on both axes, ``center`` goes to the output centre.

    Args:
        center: ``(x, y)`` in source pixels.
        scale: Side of the source square (scalar or ``(s_w, s_h)``).
        rot: Rotation in degrees.
        output_size: ``(w, h)`` of the output.
        shift: Shift of the centre in units of ``scale``.
        inv: Return the output -> source matrix instead.

    Returns:
        (2, 3) float64 matrix.
    """
    if not isinstance(scale, (np.ndarray, list, tuple)):
        scale = np.array([scale, scale], dtype=np.float32)
    scale = np.asarray(scale)
    shift = np.asarray(shift, dtype=np.float32)
    src_w = scale[0]
    dst_w, dst_h = output_size[0], output_size[1]
    rot_rad = np.pi * rot / 180
    src_dir = rotate_point([0, src_w * -0.5], rot_rad)
    dst_dir = np.array([0, dst_w * -0.5], np.float32)
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0, :] = center + scale * shift
    src[1, :] = center + src_dir + scale * shift
    dst[0, :] = [dst_w * 0.5, dst_h * 0.5]
    dst[1, :] = np.array([dst_w * 0.5, dst_h * 0.5], np.float32) + dst_dir
    src[2:, :] = _third_point(src[0, :], src[1, :])
    dst[2:, :] = _third_point(dst[0, :], dst[1, :])
    if inv:
        return cv2.getAffineTransform(np.float32(dst), np.float32(src))
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def affine_transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) points with a 2x3 matrix; points are cast to float32 first (as the original).

    Returns:
        (..., 2) float64 points.
    """
    pts = np.asarray(points, dtype=np.float32)
    x = pts[..., 0].astype(np.float64)
    y = pts[..., 1].astype(np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    return np.stack([m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]],
                    axis=-1)


def get_border(border: int, size: int) -> int:
    """Largest ``border / 2**k`` that leaves room for a crop centre (the original's rule)."""
    i = 1
    while size - border // i <= border // i:
        i *= 2
    return border // i


def warp_image(img: np.ndarray, matrix: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine`` with bilinear sampling and a zero border, on the uint8 image."""
    return cv2.warpAffine(img, matrix, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR)


def sample_crop(height: int,
                width: int,
                random_crop: bool = True,
                scale_factors: Sequence[float] = tuple(np.arange(0.6, 1.4, 0.1)),
                border: int = 128,
                shift: float = 0.1,
                scale: float = 0.4,
                shift_style: str = 'ctdet') -> Tuple[np.ndarray, float]:
    """Draw the original's crop centre and side from NumPy's global generator.

    Random crop: ``s = max(H, W) * choice(scale_factors)``, integer centre drawn x then y within
    the (halving) border. Shift branch: ``ctdet``/``multi_pose`` shift by ``s * clip(N(0, shift),
    +-2 shift)`` then scale by ``clip(N(1, scale), 1 +- scale)``; ``exdet`` scales first and
    shifts in proportion to the image width / height, with a float64 centre.

    Returns:
        ``(center, side)``; the centre is float32 (float64 for ``exdet``), before any flip.
    """
    exdet = shift_style == 'exdet'
    c = np.array([width / 2., height / 2.], dtype=np.float64 if exdet else np.float32)
    s = max(height, width) * 1.0
    if random_crop:
        s = s * np.random.choice(scale_factors)
        w_border = get_border(border, width)
        h_border = get_border(border, height)
        c[0] = np.random.randint(low=w_border, high=width - w_border)
        c[1] = np.random.randint(low=h_border, high=height - h_border)
    elif exdet:
        s = s * np.clip(np.random.randn() * scale + 1, 1 - scale, 1 + scale)
        c[0] += width * np.clip(np.random.randn() * shift, -2 * shift, 2 * shift)
        c[1] += height * np.clip(np.random.randn() * shift, -2 * shift, 2 * shift)
    else:
        c[0] += s * np.clip(np.random.randn() * shift, -2 * shift, 2 * shift)
        c[1] += s * np.clip(np.random.randn() * shift, -2 * shift, 2 * shift)
        s = s * np.clip(np.random.randn() * scale + 1, 1 - scale, 1 + scale)
    return c, s
