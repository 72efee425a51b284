# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``exdet`` training targets (extreme points + centre), computed for a whole batch."""
from typing import Dict, List, Sequence

import torch
from torch import Tensor

from mmcenternet.models.utils.gaussian_target import draw_gaussians_, radius_from_box_size
from mmcenternet.registry import TASK_UTILS

#: Row of each extreme point in a (4, 2) point array.
PART_ROWS = dict(t=0, l=1, b=2, r=3)


@TASK_UTILS.register_module()
class CenterNetExdetTargetGenerator:
    """Build the targets of the original ``EXDetDataset.__getitem__`` for a batch.

    Per object (the first ``max_objs`` of an image, in annotation order; slot k = object k):
    the four points (already mapped to the output map and clipped to it by the augmentation, and
    clipped again here) define ``h = y_b - y_t`` and ``w = x_r - x_l``; objects without ``h > 0``
    and ``w > 0`` are skipped (their slot stays zero). The radius is the ctdet rule on
    ``(ceil(h), ceil(w))``. A Gaussian of that radius is drawn at the integer position of each
    point on ``hm_t``/``hm_l``/``hm_b``/``hm_r`` (channel = class, or 0 for class-agnostic maps) and
    at ``(int((x_l + x_r) / 2), int((y_t + y_b) / 2))`` on ``hm_c`` (channel = class); the
    sub-pixel part of each point is its offset target ``reg_p`` at ``ind_p = y_int * W + x_int``.

    Args:
        max_objs: Object slots per image (128 for COCO).
        min_overlap: Radius rule parameter (0.7).
        radius_rule: ``'faithful'`` (the original's radius formula) or ``'corrected'``.
    """

    def __init__(self, max_objs: int = 128, min_overlap: float = 0.7,
                 radius_rule: str = 'faithful') -> None:
        radius_from_box_size(torch.ones(1), torch.ones(1), rule=radius_rule)  # checks the name
        self.max_objs = max_objs
        self.min_overlap = min_overlap
        self.radius_rule = radius_rule

    def __call__(self, points: Sequence[Tensor], labels: Sequence[Tensor], num_classes: int,
                 out_hw: Sequence[int], stride: float = 4.0,
                 agnostic: bool = False) -> Dict[str, Tensor]:
        """Args:
            points: Per image, (N_i, 4, 2) extreme points ``(x, y)`` in the order top, left,
                bottom, right, in network-input pixels.
            labels: Per image, (N_i,) int64 0-based classes.
            num_classes: Channels of ``hm_c`` (and of the extreme maps unless ``agnostic``).
            out_hw: ``(H, W)`` of the output map.
            stride: Input pixels per output pixel.
            agnostic: Class-agnostic extreme maps (one channel each).

        Returns:
            ``hm_t``, ``hm_l``, ``hm_b``, ``hm_r`` (B, C_e, H, W), ``hm_c`` (B, C, H, W) float32;
            ``ind_p`` (B, M) int64 and ``reg_p`` (B, M, 2) float32 for p in t, l, b, r;
            ``reg_mask`` (B, M) float32, with M = ``max_objs``.
        """
        h, w = int(out_hw[0]), int(out_hw[1])
        num_imgs = len(points)
        device = points[0].device if num_imgs else torch.device('cpu')
        m = self.max_objs
        num_ex = 1 if agnostic else num_classes
        maps = {p: torch.zeros((num_imgs * num_ex, h, w), dtype=torch.float32, device=device)
                for p in PART_ROWS}
        center = torch.zeros((num_imgs * num_classes, h, w), dtype=torch.float32, device=device)
        out: Dict[str, Tensor] = {}
        for p in PART_ROWS:
            out[f'ind_{p}'] = torch.zeros((num_imgs, m), dtype=torch.int64, device=device)
            out[f'reg_{p}'] = torch.zeros((num_imgs, m, 2), dtype=torch.float32, device=device)
        reg_mask = torch.zeros((num_imgs, m), dtype=torch.float32, device=device)

        pts, img_idx, slots, cls = self._flatten(points, labels, device)
        if pts.numel():
            pts = pts.to(torch.float32) / stride
            pts[..., 0] = pts[..., 0].clamp(0, w - 1)
            pts[..., 1] = pts[..., 1].clamp(0, h - 1)
            height = pts[:, 2, 1] - pts[:, 0, 1]
            width = pts[:, 3, 0] - pts[:, 1, 0]
            keep = (height > 0) & (width > 0)
            pts, img_idx, slots, cls = pts[keep], img_idx[keep], slots[keep], cls[keep]
            radius = radius_from_box_size(height[keep], width[keep], self.min_overlap,
                                          self.radius_rule)
            pt_int = pts.to(torch.int32).to(torch.int64)  # truncation, as astype(int32)
            ex_channel = img_idx * num_ex + (0 if agnostic else cls)
            for p, row in PART_ROWS.items():
                draw_gaussians_(maps[p], ex_channel, pt_int[:, row], radius)
                out[f'ind_{p}'][img_idx, slots] = pt_int[:, row, 1] * w + pt_int[:, row, 0]
                out[f'reg_{p}'][img_idx, slots] = pts[:, row] - pt_int[:, row].to(pts.dtype)
            ct = torch.stack([(pts[:, 3, 0] + pts[:, 1, 0]) / 2, (pts[:, 0, 1] + pts[:, 2, 1]) / 2],
                             dim=1).to(torch.int32).to(torch.int64)
            draw_gaussians_(center, img_idx * num_classes + cls, ct, radius)
            reg_mask[img_idx, slots] = 1
        for p in PART_ROWS:
            out[f'hm_{p}'] = maps[p].view(num_imgs, num_ex, h, w)
        out['hm_c'] = center.view(num_imgs, num_classes, h, w)
        out['reg_mask'] = reg_mask
        return out

    def _flatten(self, points: Sequence[Tensor], labels: Sequence[Tensor],
                 device: torch.device) -> List[Tensor]:
        """Concatenate the first ``max_objs`` objects of every image with image and slot ids."""
        parts_p, parts_i, parts_s, parts_c = [], [], [], []
        for i, (p, c) in enumerate(zip(points, labels)):
            n = min(len(p), self.max_objs)
            parts_p.append(p[:n].reshape(-1, 4, 2))
            parts_c.append(c[:n].reshape(-1).to(torch.int64))
            parts_s.append(torch.arange(n, device=device))
            parts_i.append(torch.full((n, ), i, dtype=torch.int64, device=device))
        if not parts_p:
            empty = torch.zeros((0, ), dtype=torch.int64, device=device)
            return [torch.zeros((0, 4, 2), device=device), empty, empty, empty]
        return [torch.cat(parts_p), torch.cat(parts_i), torch.cat(parts_s), torch.cat(parts_c)]
