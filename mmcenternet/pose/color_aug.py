# Copyright (c) mmcenternet contributors. All rights reserved.
"""CornerNet / CenterNet photometric augmentation (task-agnostic: it only touches ``img``)."""
import random
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmcenternet.registry import POSE_TRANSFORMS

__all__ = ['PCA_EIGVAL', 'PCA_EIGVEC', 'centernet_color_jitter_', 'CenterNetColorJitter']

#: Eigenvalues / eigenvectors of the ImageNet pixel covariance used for lighting noise, in the
#: original's float32 values; vector rows and columns follow the BGR channel order of the images.
PCA_EIGVAL = np.array([0.2141788, 0.01817699, 0.00341571], dtype=np.float32)
PCA_EIGVEC = np.array([[-0.58752847, -0.69563484, 0.41340352],
                       [-0.5832747, 0.00994535, -0.81221408],
                       [-0.56089297, 0.71832671, 0.41158938]], dtype=np.float32)


def centernet_color_jitter_(image: np.ndarray,
                            rng: np.random.RandomState,
                            strength: float = 0.4,
                            lighting_std: float = 0.1,
                            order_rng: Optional[random.Random] = None,
                            eigval: np.ndarray = PCA_EIGVAL,
                            eigvec: np.ndarray = PCA_EIGVEC) -> np.ndarray:
    """Jitter a float32 BGR image with values in [0, 1], in place, as the original ``color_aug``.

    Brightness, contrast and saturation are applied in an order shuffled with Python's
    ``random`` (``order_rng`` if given); each draws ``alpha = 1 + U(-strength, strength)`` from
    ``rng``. Contrast blends with the mean grey level and saturation with the grey image, both
    measured once on the input before any change. Finally a lighting shift
    ``eigvec @ (eigval * N(0, lighting_std))`` is added to every pixel. Nothing is clipped.

    Args:
        image: (H, W, 3) float32 image, modified in place.
        rng: Generator of the jitter strengths (the original keeps one ``RandomState(123)``).
        strength: Half-width of the uniform strength range.
        lighting_std: Std of the lighting coefficients.
        order_rng: Generator of the operation order (default: Python's global ``random``).
        eigval: Lighting eigenvalues.
        eigvec: Lighting eigenvectors (columns).

    Returns:
        ``image``.
    """
    if image.dtype != np.float32 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'colour jitter needs an (H, W, 3) float32 image, got {image.dtype} '
                         f'{image.shape}')
    ops = ['brightness', 'contrast', 'saturation']
    (order_rng or random).shuffle(ops)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey_mean = grey.mean()
    for op in ops:
        alpha = 1. + rng.uniform(low=-strength, high=strength)
        image *= alpha
        if op == 'contrast':
            image += grey_mean * (1 - alpha)
        elif op == 'saturation':
            image += grey[:, :, None] * (1 - alpha)
    coeff = rng.normal(scale=lighting_std, size=(3, ))
    image += np.dot(eigvec, eigval * coeff)
    return image


@POSE_TRANSFORMS.register_module()
class CenterNetColorJitter(BaseTransform):
    """The original colour augmentation as a transform; the result is float32 in 0-255 units.

    The uint8 image is divided by 255, jittered by :func:`centernet_color_jitter_` and
    multiplied by 255 again, so the model's data preprocessor normalises it with the usual
    0-255 mean and std. The strengths come from the transform's own ``RandomState(seed)``
    (123 in the original, one per dataloader worker copy), the op order from Python's ``random``.

    Required keys: ``img``. Modified: ``img`` (float32).

    Args:
        seed: Seed of the transform's generator.
        strength: Brightness / contrast / saturation strength.
        lighting_std: Std of the PCA lighting coefficients.
    """

    def __init__(self, seed: int = 123, strength: float = 0.4, lighting_std: float = 0.1) -> None:
        self.seed = seed
        self.strength = strength
        self.lighting_std = lighting_std
        self.rng = np.random.RandomState(seed)

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32) / 255.
        centernet_color_jitter_(img, self.rng, self.strength, self.lighting_std)
        results['img'] = img * np.float32(255)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(seed={self.seed}, strength={self.strength}, '
                f'lighting_std={self.lighting_std})')
