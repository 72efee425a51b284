# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``ctdet`` training targets, computed for a whole batch at once."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmcenternet.models.task_modules.coders.centernet_bbox_coder import CenterNetBBoxCoder
from mmcenternet.models.utils.gaussian_target import (draw_dense_reg_, draw_gaussians_,
                                                      draw_msra_gaussian_, draw_umich_gaussian_np,
                                                      radius_from_box_size)
from mmcenternet.registry import TASK_UTILS

HEATMAP_STYLES = ('umich', 'msra')


@TASK_UTILS.register_module()
class CenterNetTargetGenerator:
    """Build ``hm``, ``ind``, ``wh``, ``reg`` and ``reg_mask`` as ``CTDetDataset.__getitem__`` does.

    Object ``k`` of an image (its position in the image's instance list, i.e. annotation order)
    fills slot ``k``; only the first ``max_objs`` objects produce anything, heatmap peaks included.
    Boxes are clipped to the output map, objects whose clipped width or height is not positive are
    skipped (their slot stays zero), and crowd boxes are ordinary objects unless the dataset marks
    them ignored.

    The original's training options add targets (none is used by the model zoo):

    * ``heatmap='msra'`` (``--mse_loss``): heat maps drawn with ``draw_msra_gaussian`` of sigma
      ``hm_gauss``. The original reads ``opt.hm_gauss``, an option it never defines (it cannot
      run ``--mse_loss``); ``hm_gauss=None`` uses each object's radius, the value that option
      replaces.
    * ``dense_wh`` (``--dense_wh``): ``dense_wh`` (B, 2, H, W), every cell of an object's Gaussian
      where it is at least the heat map drawn so far holding the object's ``(w, h)``, and
      ``dense_wh_mask`` (B, 2, H, W), the final heat map's maximum over classes, twice.
    * ``cat_spec_wh`` (``--cat_spec_wh``): ``cat_spec_wh`` and ``cat_spec_mask`` (B, M, 2C), the
      size in the two columns of the object's class.

    Args:
        max_objs: Object slots per image (128 for COCO, 32 for COCO keypoints).
        min_overlap: Radius rule parameter (0.7).
        heatmap: ``'umich'`` (the model zoo's Gaussians) or ``'msra'`` (``--mse_loss``).
        hm_gauss: Sigma of the ``'msra'`` Gaussians (``None``: the object's radius).
        radius_rule: ``'faithful'`` (the original's radius formula) or ``'corrected'``
            (:func:`~mmcenternet.models.utils.gaussian_target.corrected_gaussian_radius`).
    """

    def __init__(self, max_objs: int = 128, min_overlap: float = 0.7, heatmap: str = 'umich',
                 hm_gauss: Optional[float] = None, radius_rule: str = 'faithful') -> None:
        radius_from_box_size(torch.ones(1), torch.ones(1), rule=radius_rule)  # checks the name
        self.radius_rule = radius_rule
        if heatmap not in HEATMAP_STYLES:
            raise ValueError(f'target_generator.heatmap must be one of {HEATMAP_STYLES}, got '
                             f'{heatmap!r}')
        self.max_objs = max_objs
        self.min_overlap = min_overlap
        self.heatmap = heatmap
        self.hm_gauss = hm_gauss
        self.coder = CenterNetBBoxCoder()

    def __call__(self, bboxes: Sequence[Tensor], labels: Sequence[Tensor], num_classes: int,
                 out_hw: Sequence[int], stride: float = 4.0, dense_wh: bool = False,
                 cat_spec_wh: bool = False) -> Dict[str, Tensor]:
        """Args:
            bboxes: Per image, (N_i, 4) boxes ``(x1, y1, x2, y2)`` in network-input pixels.
            labels: Per image, (N_i,) int64 0-based classes.
            num_classes: Heatmap channels.
            out_hw: ``(H, W)`` of the output map.
            stride: Input pixels per output pixel.
            dense_wh: Also build ``dense_wh`` and ``dense_wh_mask``.
            cat_spec_wh: Also build ``cat_spec_wh`` and ``cat_spec_mask``.

        Returns:
            ``hm`` (B, C, H, W) float32, ``ind`` (B, M) int64, ``wh`` and ``reg`` (B, M, 2) float32,
            ``reg_mask`` (B, M) float32, with M = ``max_objs`` (and the option targets above).
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
        extra: Dict[str, Tensor] = {}
        if cat_spec_wh:
            extra['cat_spec_wh'] = torch.zeros((num_imgs, m, 2 * num_classes), device=device)
            extra['cat_spec_mask'] = torch.zeros((num_imgs, m, 2 * num_classes), device=device)

        boxes, img_idx, slots, cls = self._flatten(bboxes, labels, device)
        if boxes.numel():
            boxes = boxes.to(torch.float32) / stride
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w - 1)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h - 1)
            _, center_int, offset, size = self.coder.encode(boxes)
            keep = (size[:, 0] > 0) & (size[:, 1] > 0)
            img_idx, slots, cls = img_idx[keep], slots[keep], cls[keep]
            center_int, offset, size = center_int[keep], offset[keep], size[keep]
            radius = radius_from_box_size(size[:, 1], size[:, 0], self.min_overlap,
                                          self.radius_rule)
            if self.heatmap == 'umich':
                draw_gaussians_(hm, img_idx * num_classes + cls, center_int, radius)
            ind[img_idx, slots] = center_int[:, 1] * w + center_int[:, 0]
            wh[img_idx, slots] = size
            reg[img_idx, slots] = offset
            reg_mask[img_idx, slots] = 1
            if cat_spec_wh:
                cols = (2 * cls)[:, None] + torch.arange(2, device=device)
                extra['cat_spec_wh'][img_idx[:, None], slots[:, None], cols] = size
                extra['cat_spec_mask'][img_idx[:, None], slots[:, None], cols] = 1
            if self.heatmap == 'msra' or dense_wh:
                seq_hm, dense = self._draw_in_order(num_imgs, num_classes, (h, w), img_idx, cls,
                                                    center_int, size, radius, dense_wh)
                if self.heatmap == 'msra':
                    hm = torch.from_numpy(seq_hm).to(device).view(-1, h, w)
                if dense_wh:
                    extra['dense_wh'] = torch.from_numpy(dense).to(device)
        hm = hm.view(num_imgs, num_classes, h, w)
        if dense_wh:
            extra.setdefault('dense_wh', torch.zeros((num_imgs, 2, h, w), device=device))
            extra['dense_wh_mask'] = hm.amax(dim=1, keepdim=True).expand(-1, 2, -1, -1).clone() \
                if num_classes else torch.zeros((num_imgs, 2, h, w), device=device)
        return dict(hm=hm, ind=ind, wh=wh, reg=reg, reg_mask=reg_mask, **extra)

    def _draw_in_order(self, num_imgs: int, num_classes: int, out_hw: Sequence[int],
                       img_idx: Tensor, cls: Tensor, center_int: Tensor, size: Tensor,
                       radius: Tensor, dense_wh: bool):
        """Object by object as the original's data loader: the heat maps (the ``'msra'`` or
        ``'umich'`` Gaussian) and, with ``dense_wh``, the dense size maps, whose cells depend on
        the heat map drawn so far. Returns float32 ``(hm (B, C, H, W), dense (B, 2, H, W))``."""
        h, w = out_hw
        hm = np.zeros((num_imgs, num_classes, h, w), np.float32)
        dense = np.zeros((num_imgs, 2, h, w), np.float32)
        rows = zip(img_idx.tolist(), cls.tolist(), center_int.cpu().numpy(),
                   size.float().cpu().numpy(), radius.tolist())
        for i, c, ct, wh_k, r in rows:
            if self.heatmap == 'msra':
                r = self.hm_gauss if self.hm_gauss is not None else r
                draw_msra_gaussian_(hm[i, c], ct, r)
            else:
                draw_umich_gaussian_np(hm[i, c], ct, r)
            if dense_wh:
                draw_dense_reg_(dense[i], hm[i].max(axis=0), ct, wh_k, r)
        return hm, dense

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
