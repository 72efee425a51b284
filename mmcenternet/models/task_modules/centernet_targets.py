# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``ctdet`` training targets, computed for a whole batch at once."""
from typing import Dict, List, Sequence

import torch
from torch import Tensor

from mmcenternet.models.task_modules.coders.centernet_bbox_coder import CenterNetBBoxCoder
from mmcenternet.models.utils.gaussian_target import draw_gaussians_, radius_from_box_size
from mmcenternet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class CenterNetTargetGenerator:
    """Build ``hm``, ``ind``, ``wh``, ``reg`` and ``reg_mask`` as ``CTDetDataset.__getitem__`` does.

    Object ``k`` of an image (its position in the image's instance list, i.e. annotation order)
    fills slot ``k``; only the first ``max_objs`` objects produce anything, heatmap peaks included.
    Boxes are clipped to the output map, objects whose clipped width or height is not positive are
    skipped (their slot stays zero), and crowd boxes are ordinary objects unless the dataset marks
    them ignored.

    Args:
        max_objs: Object slots per image (128 for COCO, 32 for COCO keypoints).
        min_overlap: Radius rule parameter (0.7).
    """

    def __init__(self, max_objs: int = 128, min_overlap: float = 0.7) -> None:
        self.max_objs = max_objs
        self.min_overlap = min_overlap
        self.coder = CenterNetBBoxCoder()

    def __call__(self, bboxes: Sequence[Tensor], labels: Sequence[Tensor], num_classes: int,
                 out_hw: Sequence[int], stride: float = 4.0) -> Dict[str, Tensor]:
        """Args:
            bboxes: Per image, (N_i, 4) boxes ``(x1, y1, x2, y2)`` in network-input pixels.
            labels: Per image, (N_i,) int64 0-based classes.
            num_classes: Heatmap channels.
            out_hw: ``(H, W)`` of the output map.
            stride: Input pixels per output pixel.

        Returns:
            ``hm`` (B, C, H, W) float32, ``ind`` (B, M) int64, ``wh`` and ``reg`` (B, M, 2) float32,
            ``reg_mask`` (B, M) float32, with M = ``max_objs``.
        """
        h, w = int(out_hw[0]), int(out_hw[1])
        num_imgs = len(bboxes)
        device = bboxes[0].device if num_imgs else torch.device('cpu')
        m = self.max_objs
        hm = torch.zeros((num_imgs * num_classes, h, w), dtype=torch.float32, device=device)
        ind = torch.zeros((num_imgs, m), dtype=torch.int64, device=device)
        wh = torch.zeros((num_imgs, m, 2), dtype=torch.float32, device=device)
        reg = torch.zeros((num_imgs, m, 2), dtype=torch.float32, device=device)
        reg_mask = torch.zeros((num_imgs, m), dtype=torch.float32, device=device)

        boxes, img_idx, slots, cls = self._flatten(bboxes, labels, device)
        if boxes.numel():
            boxes = boxes.to(torch.float32) / stride
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w - 1)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h - 1)
            _, center_int, offset, size = self.coder.encode(boxes)
            keep = (size[:, 0] > 0) & (size[:, 1] > 0)
            img_idx, slots, cls = img_idx[keep], slots[keep], cls[keep]
            center_int, offset, size = center_int[keep], offset[keep], size[keep]
            radius = radius_from_box_size(size[:, 1], size[:, 0], self.min_overlap)
            draw_gaussians_(hm, img_idx * num_classes + cls, center_int, radius)
            ind[img_idx, slots] = center_int[:, 1] * w + center_int[:, 0]
            wh[img_idx, slots] = size
            reg[img_idx, slots] = offset
            reg_mask[img_idx, slots] = 1
        return dict(hm=hm.view(num_imgs, num_classes, h, w), ind=ind, wh=wh, reg=reg,
                    reg_mask=reg_mask)

    def _flatten(self, bboxes: Sequence[Tensor], labels: Sequence[Tensor],
                 device: torch.device) -> List[Tensor]:
        """Concatenate the first ``max_objs`` objects of every image with image and slot ids."""
        parts_b, parts_i, parts_s, parts_c = [], [], [], []
        for i, (b, c) in enumerate(zip(bboxes, labels)):
            n = min(len(b), self.max_objs)
            parts_b.append(b[:n].reshape(-1, 4))
            parts_c.append(c[:n].reshape(-1).to(torch.int64))
            parts_s.append(torch.arange(n, device=device))
            parts_i.append(torch.full((n, ), i, dtype=torch.int64, device=device))
        if not parts_b:
            empty = torch.zeros((0, ), dtype=torch.int64, device=device)
            return [torch.zeros((0, 4), device=device), empty, empty, empty]
        return [torch.cat(parts_b), torch.cat(parts_i), torch.cat(parts_s), torch.cat(parts_c)]
