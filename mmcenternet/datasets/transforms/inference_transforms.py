# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's test-time input preparation (the original ``--keep_res`` path).

``CenterNetTestResize`` (multi-scale only) then ``CenterNetPad``: the image, resized to
``int(side * scale)``, is pasted at the centre of a zero canvas whose sides are rounded up with
``(n | size_mask) + 1``. The original's default fixed-resolution test (``fix_res``) uses
``CenterNetFixRes`` instead of ``CenterNetPad``. All record the geometry in
``homography_matrix`` so that predictions are mapped back to the image without any
transform-specific meta key.
"""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmcenternet.registry import register_shared_transform
from .affine import get_affine_transform, warp_image


def record_homography(results: dict, matrix: np.ndarray) -> None:
    """Left-compose ``matrix`` (3x3, image -> new image) into ``results['homography_matrix']``."""
    prev = results.get('homography_matrix')
    prev = np.eye(3) if prev is None else np.asarray(prev, dtype=np.float64)
    results['homography_matrix'] = matrix.astype(np.float64) @ prev


def _move_annotations(results: dict, sx: float, sy: float, tx: float, ty: float) -> None:
    """Apply ``x' = sx * x + tx``, ``y' = sy * y + ty`` to boxes and keypoints, if present.

    Detection data carries ``gt_bboxes`` (box structure or array); pose data ``bbox`` (N, 4) and
    ``keypoints`` (N, K, 2).
    """
    boxes = results.get('gt_bboxes')
    if boxes is not None and hasattr(boxes, 'translate_'):
        if (sx, sy) != (1.0, 1.0):
            boxes.rescale_((sx, sy))
        boxes.translate_((tx, ty))
    for key in ('bbox', 'keypoints') if boxes is None or hasattr(boxes, 'translate_') \
            else ('gt_bboxes', 'bbox', 'keypoints'):
        if results.get(key) is None:
            continue
        arr = np.array(results[key], dtype=np.float32)
        arr[..., 0::2] = arr[..., 0::2] * sx + tx
        arr[..., 1::2] = arr[..., 1::2] * sy + ty
        results[key] = arr


@register_shared_transform
class CenterNetTestResize(BaseTransform):
    """Resize by a nominal factor as CenterNet's multi-scale test does.

    The new size is ``(int(w * scale), int(h * scale))`` (truncation, ``cv2.INTER_LINEAR``), while
    the recorded geometry uses the nominal ``scale`` (predictions are divided by it, like the
    original; the difference is below one pixel).

    Required keys: ``img``. Modified: ``img``, ``img_shape``, ``scale_factor``,
    ``homography_matrix`` (and ``gt_bboxes`` / ``keypoints`` if present).

    A side that becomes shorter than the network's stride is no problem: the padding that
    follows (:class:`CenterNetPad`) makes every side at least one block, as in the original. A
    side that becomes 0 pixels is an error naming the scale and the file.

    Args:
        scale: Resize factor (> 0).
        min_side: Deprecated and unused (sides are padded to a block by ``CenterNetPad``).
    """

    def __init__(self, scale: float = 1.0, min_side: Optional[int] = None) -> None:
        if not scale > 0:
            raise ValueError(f'CenterNetTestResize needs a positive scale, got {scale}')
        self.scale = float(scale)
        self.min_side = min_side

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        new_w, new_h = int(w * self.scale), int(h * self.scale)
        if min(new_w, new_h) < 1:
            raise ValueError(
                f'test scale {self.scale} shrinks image {results.get("img_path", "")} ({w}x{h}) '
                f'to {new_w}x{new_h} pixels, which has no pixel left; use larger test scales')
        if (new_w, new_h) != (w, h):
            img = cv2.resize(img, (new_w, new_h))
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        old = results.get('scale_factor', (1.0, 1.0))
        results['scale_factor'] = (old[0] * self.scale, old[1] * self.scale)
        record_homography(results, np.diag([self.scale, self.scale, 1.0]))
        _move_annotations(results, self.scale, self.scale, 0.0, 0.0)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale})'


@register_shared_transform
class CenterNetPad(BaseTransform):
    """Paste the image at the centre of a zero canvas of side ``(n | size_mask) + 1``.

    Pixel ``(w // 2, h // 2)`` of the image lands on ``(W // 2, H // 2)`` of the canvas (an integer
    translation, exactly CenterNet's ``--keep_res`` affine warp). Note that a side that is already a
    multiple of ``size_mask + 1`` still grows by one block, as in the original.

    Required keys: ``img``. Modified: ``img``, ``img_shape``, ``pad_shape``, ``homography_matrix``
    (and ``gt_bboxes`` / ``keypoints`` if present). Added: ``border`` (``top, bottom, left, right``
    of the pasted image, for mmdet tools that expect it).

    Args:
        size_mask: 31 for DLA / ResNet (multiples of 32), 127 for Hourglass-104.
        pad_val: Canvas value (0: black in the uint8 image).
    """

    def __init__(self, size_mask: int = 31, pad_val: float = 0) -> None:
        if size_mask < 0 or (size_mask + 1) & size_mask:
            raise ValueError(f'size_mask must be 2**k - 1, got {size_mask}')
        self.size_mask = size_mask
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        out_h, out_w = (h | self.size_mask) + 1, (w | self.size_mask) + 1
        top, left = out_h // 2 - h // 2, out_w // 2 - w // 2
        canvas = np.full((out_h, out_w) + img.shape[2:], self.pad_val, dtype=img.dtype)
        canvas[top:top + h, left:left + w] = img
        results['img'] = canvas
        results['img_shape'] = canvas.shape[:2]
        results['pad_shape'] = canvas.shape[:2]
        results['border'] = np.array([top, top + h, left, left + w], dtype=np.float32)
        shift = np.array([[1, 0, left], [0, 1, top], [0, 0, 1]], dtype=np.float64)
        record_homography(results, shift)
        _move_annotations(results, 1.0, 1.0, float(left), float(top))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size_mask={self.size_mask}, pad_val={self.pad_val})'


@register_shared_transform
class CenterNetFixRes(BaseTransform):
    """The original's default (``fix_res``) test input: the image warped onto a square
    ``input_size`` canvas by the affine of ``get_affine_transform``.

    As the original's ``pre_process`` without ``--keep_res``: centre ``c`` = the centre of the
    (possibly resized) image, ``s`` = the longer side of the *original* image (``ori_shape``),
    so that after a ``CenterNetTestResize`` the image zooms about its centre (cropped for scales
    above 1), then ``cv2.warpAffine`` (bilinear, black border) to ``input_size``. The geometry is
    recorded in ``homography_matrix`` and predictions map back through its inverse.

    Required keys: ``img`` (and ``ori_shape``, else the current size). Modified: ``img``,
    ``img_shape``, ``pad_shape``, ``homography_matrix`` (and ``gt_bboxes`` / ``keypoints`` if
    present). Added: ``fixres_center``, ``fixres_scale``.

    Args:
        input_size: ``(w, h)`` of the network input (the original's ``input_res``, e.g. 512 or
            384 for Pascal VOC).
    """

    def __init__(self, input_size=(512, 512)) -> None:
        if isinstance(input_size, int):
            input_size = (input_size, input_size)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        if min(self.input_size) <= 0:
            raise ValueError(f'CenterNetFixRes needs a positive input_size, got {input_size}')

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        ori_h, ori_w = results.get('ori_shape', (h, w))[:2]
        center = np.array([w / 2., h / 2.], dtype=np.float32)
        scale = max(ori_h, ori_w) * 1.0
        trans = get_affine_transform(center, scale, 0, list(self.input_size))
        results['img'] = warp_image(img, trans, self.input_size)
        results['img_shape'] = results['img'].shape[:2]
        results['pad_shape'] = results['img'].shape[:2]
        results['fixres_center'] = center
        results['fixres_scale'] = scale
        record_homography(results, np.vstack([trans, [0, 0, 1]]))
        _move_annotations(results, float(trans[0, 0]), float(trans[1, 1]), float(trans[0, 2]),
                          float(trans[1, 2]))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_size={self.input_size})'
