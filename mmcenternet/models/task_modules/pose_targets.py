# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``multi_pose`` training targets, computed for a whole batch at once.

The rules are those of the original ``MultiPoseDataset.__getitem__`` (one person class, 17 joints,
``max_objs`` 32), evaluated with tensor operations over every object and joint of the batch:

* only the first ``max_objs`` persons of an image (annotation order) produce anything;
* the box is clipped to the output map; a person is used if the clipped box has positive width
  and height (or the sample was rotated);
* every used person is a positive of the centre heatmap, including persons without any labelled
  joint (crowd regions among them): the original first writes 0.9999 at their centre, but the
  centre Gaussian drawn afterwards restores 1.0. Only their size / offset regression is off
  (``reg_mask`` 0);
* a labelled joint (visibility > 0) counts only if it lands inside the output map: it then gets
  its displacement from the integer centre (``hps``), its own sub-pixel offset (``hp_offset``),
  and a Gaussian on its joint heatmap with the person's radius;
* a rotated sample (rotation augmentation, off by default) keeps only its joint heatmaps: its
  centre heatmap becomes 0.9999 everywhere (no positive, nearly no negative weight) and all
  regression masks are cleared.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmcenternet.models.utils.gaussian_target import (draw_dense_reg_, draw_gaussians_,
                                                      draw_umich_gaussian_np, radius_from_box_size)

__all__ = ['CenterNetPoseTargetGenerator']

#: Value of the whole centre heatmap of a rotated sample (the original's ``hm * 0 + 0.9999``).
ROTATED_HEATMAP_VALUE = 0.9999


class CenterNetPoseTargetGenerator:
    """Build ``hm``, ``hm_hp``, ``ind``, ``wh``, ``reg``, ``reg_mask``, ``hps``, ``hps_mask``,
    ``hp_offset``, ``hp_ind`` and ``hp_mask`` for a batch.

    Args:
        num_keypoints: Joints per person (17 for COCO).
        max_objs: Person slots per image (32 in the original).
        min_overlap: Radius rule parameter (0.7).
        radius_rule: ``'faithful'`` (the original's radius formula) or ``'corrected'``.
    """

    def __init__(self, num_keypoints: int = 17, max_objs: int = 32,
                 min_overlap: float = 0.7, radius_rule: str = 'faithful') -> None:
        radius_from_box_size(torch.ones(1), torch.ones(1), rule=radius_rule)  # checks the name
        self.radius_rule = radius_rule
        if max_objs < 1:
            raise ValueError(f'max_objs must be positive, got {max_objs}')
        self.num_keypoints = num_keypoints
        self.max_objs = max_objs
        self.min_overlap = min_overlap

    def __call__(self,
                 bboxes: Sequence[Tensor],
                 keypoints: Sequence[Tensor],
                 keypoints_visible: Sequence[Tensor],
                 out_hw: Sequence[int],
                 stride: float = 4.0,
                 rotated: Optional[Sequence[bool]] = None,
                 dense_hp: bool = False) -> Dict[str, Tensor]:
        """Args:
            bboxes: Per image, (N_i, 4) person boxes ``(x1, y1, x2, y2)`` in network-input pixels
                (not clipped).
            keypoints: Per image, (N_i, K, 2) joints in network-input pixels.
            keypoints_visible: Per image, (N_i, K); a joint is labelled where the value is > 0.
            out_hw: ``(H, W)`` of the output map.
            stride: Input pixels per output pixel.
            rotated: Per image, whether the sample was rotated (default: none).
            dense_hp: Also build the original's ``--dense_hp`` targets ``dense_hps`` (B, 2K, H, W),
                each labelled joint's displacement from every cell of its person's Gaussian
                where that Gaussian is at least the centre heat map drawn so far (persons in
                order, each before its own centre), and ``dense_hps_mask`` (B, 2K, H, W), the
                person Gaussians per joint (not cleared for rotated samples, as the original).

        Returns:
            With M = ``max_objs`` and K joints: ``hm`` (B, 1, H, W), ``hm_hp`` (B, K, H, W),
            ``ind`` (B, M) int64, ``wh`` / ``reg`` (B, M, 2), ``reg_mask`` (B, M), ``hps`` and
            ``hps_mask`` (B, M, 2K), ``hp_offset`` (B, M*K, 2), ``hp_ind`` (B, M*K) int64 and
            ``hp_mask`` (B, M*K); masks are float32 0/1. Slot ``k`` of ``hp_*`` rows
            ``k*K .. k*K+K-1`` belongs to person ``k``.
        """
        h, w = int(out_hw[0]), int(out_hw[1])
        nj, m = self.num_keypoints, self.max_objs
        num_imgs = len(bboxes)
        device = bboxes[0].device if num_imgs else torch.device('cpu')
        f32 = dict(dtype=torch.float32, device=device)
        hm = torch.zeros((num_imgs, h, w), **f32)
        hm_hp = torch.zeros((num_imgs * nj, h, w), **f32)
        ind = torch.zeros((num_imgs, m), dtype=torch.int64, device=device)
        wh = torch.zeros((num_imgs, m, 2), **f32)
        reg = torch.zeros((num_imgs, m, 2), **f32)
        reg_mask = torch.zeros((num_imgs, m), **f32)
        hps = torch.zeros((num_imgs, m, nj, 2), **f32)
        hps_mask = torch.zeros((num_imgs, m, nj, 2), **f32)
        hp_offset = torch.zeros((num_imgs, m, nj, 2), **f32)
        hp_ind = torch.zeros((num_imgs, m, nj), dtype=torch.int64, device=device)
        hp_mask = torch.zeros((num_imgs, m, nj), **f32)
        rot = torch.zeros(num_imgs, dtype=torch.bool, device=device)
        if rotated is not None:
            rot = torch.as_tensor([bool(r) for r in rotated], dtype=torch.bool, device=device)

        boxes, kps, vis, img_idx, slots = self._flatten(bboxes, keypoints, keypoints_visible,
                                                        device)
        if boxes.numel():
            boxes = boxes / stride
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w - 1)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h - 1)
            bw = boxes[:, 2] - boxes[:, 0]
            bh = boxes[:, 3] - boxes[:, 1]
            keep = ((bw > 0) & (bh > 0)) | rot[img_idx]
            boxes, bw, bh = boxes[keep], bw[keep], bh[keep]
            kps, vis, img_idx, slots = kps[keep], vis[keep], img_idx[keep], slots[keep]

            center = torch.stack([(boxes[:, 0] + boxes[:, 2]) / 2,
                                  (boxes[:, 1] + boxes[:, 3]) / 2], dim=1)
            center_int = center.to(torch.int32).to(torch.int64)
            radius = radius_from_box_size(bh, bw, self.min_overlap, self.radius_rule)
            labelled = vis.any(dim=1)

            ind[img_idx, slots] = center_int[:, 1] * w + center_int[:, 0]
            wh[img_idx, slots] = torch.stack([bw, bh], dim=1)
            reg[img_idx, slots] = center - center_int.to(torch.float32)
            reg_mask[img_idx, slots] = labelled.to(torch.float32)
            draw_gaussians_(hm, img_idx, center_int, radius)

            # Joints: (T, K) selections over every used person of the batch.
            pts = kps / stride
            inside = (pts[..., 0] >= 0) & (pts[..., 0] < w) & (pts[..., 1] >= 0) & \
                (pts[..., 1] < h)
            sel = vis & inside
            obj, joint = sel.nonzero(as_tuple=True)
            if obj.numel():
                pt = pts[obj, joint]
                pt_int = pt.to(torch.int32).to(torch.int64)
                b, s = img_idx[obj], slots[obj]
                hps[b, s, joint] = pt - center_int[obj].to(torch.float32)
                hps_mask[b, s, joint] = 1
                hp_offset[b, s, joint] = pt - pt_int.to(torch.float32)
                hp_ind[b, s, joint] = pt_int[:, 1] * w + pt_int[:, 0]
                hp_mask[b, s, joint] = 1
                draw_gaussians_(hm_hp, b * nj + joint, pt_int, radius[obj])

        extra = {}
        if dense_hp:
            extra = self._dense_joint_targets(num_imgs, (h, w), img_idx, center_int, radius,
                                              pts, sel, device) if boxes.numel() else dict(
                dense_hps=torch.zeros((num_imgs, 2 * nj, h, w), **f32),
                dense_hps_mask=torch.zeros((num_imgs, 2 * nj, h, w), **f32))
        if bool(rot.any()):
            hm[rot] = ROTATED_HEATMAP_VALUE
            reg_mask[rot] = 0
            hps_mask[rot] = 0
        return dict(
            hm=hm.view(num_imgs, 1, h, w),
            hm_hp=hm_hp.view(num_imgs, nj, h, w),
            ind=ind,
            wh=wh,
            reg=reg,
            reg_mask=reg_mask,
            hps=hps.view(num_imgs, m, nj * 2),
            hps_mask=hps_mask.view(num_imgs, m, nj * 2),
            hp_offset=hp_offset.view(num_imgs, m * nj, 2),
            hp_ind=hp_ind.view(num_imgs, m * nj),
            hp_mask=hp_mask.view(num_imgs, m * nj),
            **extra)

    def _dense_joint_targets(self, num_imgs: int, out_hw: Sequence[int], img_idx: Tensor,
                             center_int: Tensor, radius: Tensor, pts: Tensor, sel: Tensor,
                             device: torch.device) -> Dict[str, Tensor]:
        """``dense_hps`` and ``dense_hps_mask``, person by person as the original's loader."""
        h, w = out_hw
        nj = self.num_keypoints
        dense = np.zeros((num_imgs, nj, 2, h, w), np.float32)
        mask = np.zeros((num_imgs, nj, h, w), np.float32)
        hm = np.zeros((num_imgs, h, w), np.float32)
        rows = zip(img_idx.tolist(), center_int.cpu().numpy(), radius.tolist(),
                   pts.float().cpu().numpy(), sel.cpu().numpy())
        for i, ct, r, joints, labelled in rows:
            for j in np.flatnonzero(labelled):
                draw_dense_reg_(dense[i, j], hm[i], ct, joints[j] - ct, r, is_offset=True)
                draw_umich_gaussian_np(mask[i, j], ct, r)
            draw_umich_gaussian_np(hm[i], ct, r)
        mask2 = np.repeat(mask[:, :, None], 2, axis=2)
        return dict(
            dense_hps=torch.from_numpy(dense.reshape(num_imgs, 2 * nj, h, w)).to(device),
            dense_hps_mask=torch.from_numpy(mask2.reshape(num_imgs, 2 * nj, h, w)).to(device))

    def _flatten(self, bboxes: Sequence[Tensor], keypoints: Sequence[Tensor],
                 visible: Sequence[Tensor], device: torch.device) -> List[Tensor]:
        """The first ``max_objs`` persons of every image, concatenated, with image and slot ids."""
        nj = self.num_keypoints
        parts = [[], [], [], [], []]
        for i, (b, k, v) in enumerate(zip(bboxes, keypoints, visible)):
            b = b.reshape(-1, 4)
            k = k.reshape(len(b), -1, 2) if len(b) else k.reshape(0, nj, 2)
            v = v.reshape(len(b), -1) if len(b) else v.reshape(0, nj)
            if k.shape[1] != nj or v.shape[1] != nj:
                raise ValueError(f'image {i} of the batch has {k.shape[1]} keypoints (visibility '
                                 f'{v.shape[1]}) per person, the head expects {nj}')
            n = min(len(b), self.max_objs)
            parts[0].append(b[:n].to(torch.float32))
            parts[1].append(k[:n].to(torch.float32))
            parts[2].append(v[:n] > 0)
            parts[3].append(torch.full((n, ), i, dtype=torch.int64, device=device))
            parts[4].append(torch.arange(n, device=device))
        if not parts[0]:
            empty = torch.zeros((0, ), dtype=torch.int64, device=device)
            return [torch.zeros((0, 4), device=device), torch.zeros((0, nj, 2), device=device),
                    torch.zeros((0, nj), dtype=torch.bool, device=device), empty, empty]
        return [torch.cat(p) for p in parts]
