# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's training augmentation: affine random crop / scale / flip and colour jitter."""
import random
from typing import Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.registry import DET_TRANSFORMS, register_shared_transform
from .affine import affine_transform, get_affine_transform
from .affine_augment import CenterNetAffineAugment

#: ImageNet PCA lighting constants used by CornerNet and CenterNet (BGR channel order).
EIG_VAL = np.array([0.2141788, 0.01817699, 0.00341571], dtype=np.float32)
EIG_VEC = np.array([[-0.58752847, -0.69563484, 0.41340352],
                    [-0.5832747, 0.00994535, -0.81221408],
                    [-0.56089297, 0.71832671, 0.41158938]], dtype=np.float32)


@DET_TRANSFORMS.register_module()
class CenterNetRandomAffine(CenterNetAffineAugment):
    """The original ``ctdet`` geometric augmentation, one ``cv2.warpAffine`` on the uint8 image.

    Random crop (default): the side of the source square is ``max(H, W) * f`` with ``f`` drawn
    from ``np.arange(*scale_range)`` (0.6 ... 1.3), the centre is an integer drawn uniformly
    within ``border`` pixels of the image edges (the border halves until it fits the image).
    Shift mode (``random_crop=False``): centre shifted by ``s * clip(N(0, shift), +-2 shift)`` and
    scale multiplied by ``clip(N(1, scale), 1 +- scale)``. Then, with probability ``flip_prob``,
    the image is mirrored and so is the crop centre (``c_x = W - c_x - 1``).

    Boxes (``x' = W - x - 1`` when flipped) are mapped to the output map (``input / down_ratio``)
    with the original's separate output transform, clipped to ``[0, out - 1]`` there, and stored
    multiplied by ``down_ratio`` (exact), i.e. in input pixels. Boxes that end up empty are kept
    (they keep their object slot; the target generator skips them). Random draws use NumPy's
    global generator in the original's order, so mmengine's seeding controls them.

    ``exdet`` (``mirror_center=False, shift_style='exdet'``): the flip leaves the crop centre where
    it is; the shift/scale branch draws the scale first and shifts the centre by
    ``W * clip(N(0, shift))`` / ``H * clip(N(0, shift))`` (not by ``s``); the centre is float64.
    Extreme points ``gt_extreme_points`` (N, 4, 2), if present, are mirrored (``x' = W - x - 1``,
    left and right points swapped), mapped and clipped like the box corners, and stored in input
    pixels the same way.

    Required keys: ``img``, ``gt_bboxes``. Modified: ``img``, ``img_shape``, ``gt_bboxes``
    (and ``gt_extreme_points``). Added: ``flip``, ``flip_direction``, ``homography_matrix``,
    ``crop_center``, ``crop_scale``.

    Args:
        mirror_center: Mirror the crop centre with the image (ctdet, multi_pose); ``exdet``
            keeps it (``False``).
        shift_style: ``'ctdet'`` (shift by ``s``, then scale) or ``'exdet'`` (scale first, shifts
            proportional to the image width / height, float64 centre).
        **kwargs: The crop, scale and flip settings of :class:`CenterNetAffineAugment`
            (``input_size``, ``down_ratio``, ``random_crop``, ``scale_range``, ``border``,
            ``shift``, ``scale``, ``flip_prob``).
    """

    def __init__(self, mirror_center: bool = True, shift_style: str = 'ctdet', **kwargs) -> None:
        if shift_style not in ('ctdet', 'exdet'):
            raise ValueError(f"shift_style must be 'ctdet' or 'exdet', got {shift_style!r}")
        super().__init__(**kwargs)
        self.mirror_center = mirror_center
        self.shift_style = shift_style

    def sample_params(self, height: int, width: int) -> Tuple[np.ndarray, float, bool]:
        """Draw ``(center, scale, flip)`` for an image of ``height x width`` (original order)."""
        c, s = self.draw_crop(height, width, self.shift_style)
        flip = bool(np.random.random() < self.flip_prob)
        if flip and self.mirror_center:
            c[0] = width - c[0] - 1
        return c, s, flip

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        center, scale, flip = self.sample_params(h, w)
        return self.apply(results, center, scale, flip)

    def output_transform(self, center: np.ndarray, scale: float) -> np.ndarray:
        return get_affine_transform(center, scale, 0, list(self.output_size()))

    def apply(self, results: dict, center: np.ndarray, scale: float, flip: bool) -> dict:
        """Warp the image and annotations for given parameters (``center`` as used, i.e. already
        mirrored if flip and ``mirror_center``)."""
        w = results['img'].shape[1]
        self.warp(results, center, scale, 0, flip)
        if results.get('gt_bboxes') is not None:
            boxes = self.transform_boxes(results['gt_bboxes'], center, scale, flip, w)
            results['gt_bboxes'] = HorizontalBoxes(boxes)
        if results.get('gt_extreme_points') is not None:
            results['gt_extreme_points'] = self.transform_extreme_points(
                results['gt_extreme_points'], center, scale, flip, w)
        return results

    def transform_boxes(self, gt_bboxes, center: np.ndarray, scale: float, flip: bool,
                        width: int) -> np.ndarray:
        """Source boxes -> clipped output-map boxes x ``down_ratio`` (float32, (N, 4))."""
        boxes = np.asarray(getattr(gt_bboxes, 'tensor', gt_bboxes), dtype=np.float32)
        boxes = boxes.reshape(-1, 4).copy()
        if flip:
            boxes[:, [0, 2]] = width - boxes[:, [2, 0]] - 1
        trans_output = self.output_transform(center, scale)
        out_w = self.input_size[0] // self.down_ratio
        out_h = self.input_size[1] // self.down_ratio
        out = np.empty_like(boxes)
        out[:, :2] = affine_transform(boxes[:, :2], trans_output)
        out[:, 2:] = affine_transform(boxes[:, 2:], trans_output)
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, out_w - 1)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, out_h - 1)
        return out * np.float32(self.down_ratio)

    def transform_extreme_points(self, points, center: np.ndarray, scale: float, flip: bool,
                                 width: int) -> np.ndarray:
        """Source extreme points (N, 4, 2) (top, left, bottom, right) -> clipped output-map points
        x ``down_ratio`` (float32), as the original ``exdet`` sample does: mirrored
        (``x' = W - x - 1``, left and right swapped) if flipped, mapped point by point with the
        output transform, every coordinate clipped to the output map."""
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 4, 2).copy()
        if flip:
            pts[..., 0] = width - pts[..., 0] - 1
            pts = pts[:, [0, 3, 2, 1]]
        trans_output = self.output_transform(center, scale)
        out_w = self.input_size[0] // self.down_ratio
        out_h = self.input_size[1] // self.down_ratio
        out = affine_transform(pts, trans_output).astype(np.float32)
        out[..., 0] = np.clip(out[..., 0], 0, out_w - 1)
        out[..., 1] = np.clip(out[..., 1], 0, out_h - 1)
        return out * np.float32(self.down_ratio)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'down_ratio={self.down_ratio}, random_crop={self.random_crop}, '
                f'flip_prob={self.flip_prob}, mirror_center={self.mirror_center}, '
                f'shift_style={self.shift_style!r})')


def color_augment_(image: np.ndarray, data_rng: np.random.RandomState,
                   eig_val: np.ndarray = EIG_VAL, eig_vec: np.ndarray = EIG_VEC,
                   var: float = 0.4, light_std: float = 0.1,
                   py_rng: Optional[random.Random] = None) -> np.ndarray:
    """CornerNet/CenterNet colour jitter on a float32 BGR image in [0, 1], in place.

    Brightness, contrast and saturation (each with ``alpha = 1 + U(-var, var)`` from
    ``data_rng``) in an order shuffled with Python's ``random``, all against the grey image of
    the un-augmented input, then PCA lighting ``eig_vec @ (eig_val * N(0, light_std))`` added to
    every pixel. No clipping.
    """
    if image.dtype != np.float32 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'colour augmentation needs an (H, W, 3) float32 image, got '
                         f'{image.dtype} {image.shape}')
    ops = ['brightness', 'contrast', 'saturation']
    (py_rng or random).shuffle(ops)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray_mean = gray.mean()
    for op in ops:
        alpha = 1. + data_rng.uniform(low=-var, high=var)
        if op == 'brightness':
            image *= alpha
        elif op == 'contrast':
            image *= alpha
            image += gray_mean * (1 - alpha)
        else:
            image *= alpha
            image += gray[:, :, None] * (1 - alpha)
    alpha = data_rng.normal(scale=light_std, size=(3, ))
    image += np.dot(eig_vec, eig_val * alpha)
    return image


@register_shared_transform
class CenterNetColorAug(BaseTransform):
    """The original colour augmentation, producing a float32 image in 0-255 units.

    The uint8 image is scaled to [0, 1], jittered by :func:`color_augment_`, and scaled back by
    255 so that the model's data preprocessor applies the usual ``(x - mean) / std`` with means
    and stds in 0-255 units. Like the original, the jitter parameters come from a generator
    owned by the transform (``RandomState(seed)``, 123 in CenterNet) and the op order from
    Python's ``random``.

    Unlike the original, whose data-loader workers all copy one generator (so every worker, and
    every GPU, draws the same jitter sequence), the generator is created in the process that
    uses it: in the main process of rank 0 it is ``RandomState(seed)``; in a data-loader worker
    or on another rank it is seeded from ``seed``, the worker's seed (which mmengine derives
    from ``randomness.seed``) and the rank, so the sequences differ between workers and ranks
    and repeat from run to run under a fixed ``randomness.seed``.

    Args:
        seed: Seed of the transform's own generator.
        var: Strength of brightness / contrast / saturation.
        light_std: Std of the PCA lighting coefficients.
    """

    def __init__(self, seed: int = 123, var: float = 0.4, light_std: float = 0.1) -> None:
        self.seed = seed
        self.var = var
        self.light_std = light_std
        self._rng = None
        self._rng_owner = None

    @property
    def data_rng(self) -> np.random.RandomState:
        """The generator of the current process (data-loader worker and rank)."""
        import os

        import torch.utils.data
        from mmengine.dist import get_rank
        worker = torch.utils.data.get_worker_info()
        owner = (os.getpid(), None if worker is None else worker.id)
        if self._rng is None or self._rng_owner != owner:
            rank = get_rank()
            if worker is None and rank == 0:
                self._rng = np.random.RandomState(self.seed)
            else:
                worker_seed = -1 if worker is None else int(worker.seed) % 2**32
                entropy = [self.seed, worker_seed + 1, rank]
                state = np.random.SeedSequence(entropy).generate_state(1)[0]
                self._rng = np.random.RandomState(int(state))
            self._rng_owner = owner
        return self._rng

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32) / 255.
        color_augment_(img, self.data_rng, var=self.var, light_std=self.light_std)
        results['img'] = img * np.float32(255)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(seed={self.seed}, var={self.var})'
