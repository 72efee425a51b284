# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``multi_pose`` training geometry: affine crop / scale / (rotation) / flip."""
from typing import Optional, Sequence, Tuple

import numpy as np

from mmcenternet.registry import POSE_TRANSFORMS
from .affine import affine_transform, get_affine_transform
from .affine_augment import CenterNetAffineAugment

__all__ = ['CenterNetPoseRandomAffine', 'COCO_FLIP_INDICES']

#: ``flip_indices`` of the 17 COCO keypoints (joint i of a mirrored person is joint
#: ``COCO_FLIP_INDICES[i]`` of the original one).
COCO_FLIP_INDICES = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


@POSE_TRANSFORMS.register_module()
class CenterNetPoseRandomAffine(CenterNetAffineAugment):
    """The original ``multi_pose`` augmentation: one ``cv2.warpAffine`` of the uint8 image.

    Random draws, from NumPy's global generator in the original's order:

    1. random crop (default): scale ``max(H, W) * f`` with ``f`` from ``np.arange(*scale_range)``
       (0.6 ... 1.3), then an integer centre ``x`` and ``y`` drawn within ``border`` pixels of the
       image edges (the border halves until it fits); shift mode (``random_crop=False``): centre
       moved by ``s * clip(N(0, shift), +-2 shift)`` per axis, then the scale multiplied by
       ``clip(N(1, scale), 1 +- scale)``;
    2. the rotation draw ``random() < rot_prob`` (always consumed; then
       ``rot = clip(N(0, rotate), +-2 rotate)`` degrees); off by default as in the original;
    3. the flip draw ``random() < flip_prob``: the image is mirrored and so is the crop centre.

    Persons are mapped to the output map (input / ``down_ratio``) with the original's separate
    output transforms, boxes without the rotation (as the original does) and joints with it, and
    stored multiplied by ``down_ratio`` (an exact float32 operation): ``bbox`` and ``keypoints``
    are in network-input pixels but divide back exactly to the original's output-map values.
    Boxes are not clipped here (the target generator clips them on the map). When flipped,
    ``x' = W - x - 1`` and left/right joints (``flip_indices``) are swapped.

    Required keys: ``img``. Optional: ``bbox`` (N, 4), ``keypoints`` (N, K, 2),
    ``keypoints_visible`` (N, K), ``flip_indices``. Modified: ``img``, ``img_shape``, ``bbox``,
    ``keypoints``, ``keypoints_visible``. Added: ``flip``, ``flip_direction``,
    ``homography_matrix``, ``input_size``, ``input_center``, ``input_scale``, ``crop_center``,
    ``crop_scale``, ``centernet_rot`` (degrees).

    Args:
        rot_prob: Probability of a rotation (the original's ``aug_rot``, 0).
        rotate: Rotation std in degrees (the original's ``rotate``, 0).
        flip_indices: Joint permutation of a mirror image, used when the data carries none.
        **kwargs: The crop, scale and flip settings of :class:`CenterNetAffineAugment`
            (``input_size`` (512 x 512; the output map is input / ``down_ratio``),
            ``down_ratio``, ``random_crop``, ``scale_range``, ``border``, ``shift``, ``scale``,
            ``flip_prob``).
    """

    def __init__(self,
                 rot_prob: float = 0.0,
                 rotate: float = 0.0,
                 flip_indices: Optional[Sequence[int]] = COCO_FLIP_INDICES,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.input_size[0] % self.down_ratio or self.input_size[1] % self.down_ratio:
            raise ValueError(f'input_size {self.input_size} must be a multiple of down_ratio '
                             f'{self.down_ratio}')
        self.rot_prob = rot_prob
        self.rotate = rotate
        self.flip_indices = None if flip_indices is None else list(flip_indices)

    # ------------------------------------------------------------------ random parameters
    def sample_params(self, height: int, width: int) -> Tuple[np.ndarray, float, float, bool]:
        """Draw ``(center, scale, rot, flip)`` for an image of ``height x width``."""
        c, s = self.draw_crop(height, width)
        rot = 0.0
        if np.random.random() < self.rot_prob:
            rot = float(np.clip(np.random.randn() * self.rotate, -2 * self.rotate,
                                2 * self.rotate))
        flip = bool(np.random.random() < self.flip_prob)
        if flip:
            c[0] = width - c[0] - 1
        return c, s, rot, flip

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        center, scale, rot, flip = self.sample_params(h, w)
        return self.apply(results, center, scale, rot, flip)

    # ------------------------------------------------------------------ deterministic part
    def apply(self, results: dict, center: np.ndarray, scale: float, rot: float,
              flip: bool) -> dict:
        """Warp image and persons for given parameters (``center`` already mirrored if flip)."""
        w = results['img'].shape[1]
        self.warp(results, center, scale, rot, flip)
        results['centernet_rot'] = float(rot)
        # mmpose's input-space convention: the square of side ``scale`` about ``center``
        # fills the input (exact without rotation).
        results['input_size'] = self.input_size
        results['input_center'] = np.asarray(center, dtype=np.float32)
        results['input_scale'] = np.array(
            [scale, scale * self.input_size[1] / self.input_size[0]], dtype=np.float32)
        self._transform_persons(results, center, scale, rot, flip, w)
        return results

    def _transform_persons(self, results: dict, center: np.ndarray, scale: float, rot: float,
                           flip: bool, width: int) -> None:
        out_size = list(self.output_size())
        ratio = np.float32(self.down_ratio)
        if results.get('bbox') is not None:
            boxes = np.array(results['bbox'], dtype=np.float32).reshape(-1, 4)
            if flip:
                boxes[:, [0, 2]] = width - boxes[:, [2, 0]] - 1
            trans_output = get_affine_transform(center, scale, 0, out_size)
            out = np.empty_like(boxes)
            out[:, :2] = affine_transform(boxes[:, :2], trans_output)
            out[:, 2:] = affine_transform(boxes[:, 2:], trans_output)
            results['bbox'] = out * ratio
        if results.get('keypoints') is not None:
            kps = np.array(results['keypoints'], dtype=np.float32)
            if kps.ndim != 3 or kps.shape[-1] != 2:
                raise ValueError(f'{results.get("img_path", "image")}: keypoints must have shape '
                                 f'(N, K, 2), got {kps.shape}')
            vis = results.get('keypoints_visible')
            vis = np.ones(kps.shape[:2], dtype=np.float32) if vis is None else \
                np.array(vis, dtype=np.float32).reshape(kps.shape[:2])
            if flip:
                order = self._flip_order(results, kps.shape[1])
                kps[..., 0] = width - kps[..., 0] - 1
                kps, vis = kps[:, order], vis[:, order]
            trans_output_rot = get_affine_transform(center, scale, rot, out_size)
            out = affine_transform(kps, trans_output_rot).astype(np.float32)
            results['keypoints'] = out * ratio
            results['keypoints_visible'] = vis

    def _flip_order(self, results: dict, num_keypoints: int) -> list:
        order = results.get('flip_indices', self.flip_indices)
        if order is None:
            raise ValueError(f'{results.get("img_path", "image")}: flipping keypoints needs '
                             '`flip_indices` (from the dataset metainfo or the transform)')
        order = list(order)
        if len(order) != num_keypoints:
            raise ValueError(f'{results.get("img_path", "image")}: flip_indices has '
                             f'{len(order)} entries for {num_keypoints} keypoints')
        return order

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'down_ratio={self.down_ratio}, random_crop={self.random_crop}, '
                f'rot_prob={self.rot_prob}, flip_prob={self.flip_prob})')
