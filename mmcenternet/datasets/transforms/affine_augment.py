# Copyright (c) mmcenternet contributors. All rights reserved.
"""What the original's training augmentations of every task share: the random crop / scale /
flip draw and the one ``cv2.warpAffine`` of the uint8 image.

:class:`CenterNetRandomAffine` (ctdet, exdet: boxes and extreme points) and
:class:`CenterNetPoseRandomAffine` (multi_pose: boxes and joints, optional rotation) derive from
:class:`CenterNetAffineAugment` and only map their annotations.
"""
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from .affine import get_affine_transform, sample_crop, warp_image
from .inference_transforms import record_homography

__all__ = ['CenterNetAffineAugment']


class CenterNetAffineAugment(BaseTransform):
    """Base of CenterNet's training affine transforms (not registered; see the subclasses).

    Args:
        input_size: Network input ``(w, h)``.
        down_ratio: Output stride (must equal the head's ``stride``).
        random_crop: Use the random crop (True) or the shift/scale branch (False).
        scale_range: ``np.arange`` arguments of the crop scale factors.
        border: Initial border of the crop-centre range, in pixels.
        shift: Shift std of the shift/scale branch.
        scale: Scale std of the shift/scale branch.
        flip_prob: Probability of the horizontal flip.
    """

    def __init__(self,
                 input_size: Sequence[int] = (512, 512),
                 down_ratio: int = 4,
                 random_crop: bool = True,
                 scale_range: Sequence[float] = (0.6, 1.4, 0.1),
                 border: int = 128,
                 shift: float = 0.1,
                 scale: float = 0.4,
                 flip_prob: float = 0.5) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.down_ratio = down_ratio
        self.random_crop = random_crop
        self.scale_factors = np.arange(*scale_range)
        self.border = border
        self.shift = shift
        self.scale = scale
        self.flip_prob = flip_prob

    def output_size(self) -> Tuple[int, int]:
        """``(w, h)`` of the output map."""
        return self.input_size[0] // self.down_ratio, self.input_size[1] // self.down_ratio

    def draw_crop(self, height: int, width: int, shift_style: str = 'ctdet'
                  ) -> Tuple[np.ndarray, float]:
        """The original's crop draw: ``(center, scale)`` (see :func:`sample_crop`)."""
        return sample_crop(height, width, self.random_crop, self.scale_factors, self.border,
                           self.shift, self.scale, shift_style)

    def warp(self, results: dict, center: np.ndarray, scale: float, rot: float,
             flip: bool) -> dict:
        """Mirror (if ``flip``) and warp ``results['img']`` to the input size; record ``flip``,
        ``flip_direction``, ``crop_center``, ``crop_scale`` and the image -> input
        ``homography_matrix``."""
        img = results['img']
        w = img.shape[1]
        if flip:
            img = np.ascontiguousarray(img[:, ::-1])
        trans_input = get_affine_transform(center, scale, rot, list(self.input_size))
        results['img'] = warp_image(img, trans_input, self.input_size)
        results['img_shape'] = results['img'].shape[:2]
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        results['crop_center'] = np.asarray(center, dtype=np.float32)
        results['crop_scale'] = float(scale)
        mirror = np.array([[-1, 0, w - 1], [0, 1, 0], [0, 0, 1]], dtype=np.float64) if flip \
            else np.eye(3)
        record_homography(results, np.vstack([trans_input, [0, 0, 1]]) @ mirror)
        return results
