# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's box encoding: a centre peak, its sub-pixel offset and the raw box size."""
from typing import Optional, Tuple

import torch
from mmdet.models.task_modules.coders import BaseBBoxCoder
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import gather_feat, heatmap_nms, topk_two_stage
from mmcenternet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class CenterNetBBoxCoder(BaseBBoxCoder):
    """Encode boxes as (centre cell, offset, size) on the output map and decode heatmap peaks.

    All quantities are in output-map pixels unless ``stride`` is given to :meth:`decode`. Sizes are
    regressed directly (no log/exp), boxes are neither clipped nor re-ordered, as in CenterNet.

    The decoding settings (``K``, the peak-test window) belong to the model's ``test_cfg``; the
    head passes them to :meth:`decode`.

    Args:
        topk: Deprecated (set ``test_cfg.topk``): default ``k`` of :meth:`decode`.
        local_maximum_kernel: Deprecated (set ``test_cfg.local_maximum_kernel``): default
            ``kernel`` of :meth:`decode`.
    """

    encode_size = 4

    def __init__(self, topk: Optional[int] = None, local_maximum_kernel: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.topk = topk
        self.local_maximum_kernel = local_maximum_kernel

    def encode(self, bboxes: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Encode boxes given in output-map pixels.

        Args:
            bboxes: (..., 4) boxes ``(x1, y1, x2, y2)`` already clipped to the map.

        Returns:
            ``(center, center_int, offset, wh)``: float centre (..., 2) as ``(x, y)``, its integer
            cell (int64, truncation as CenterNet's ``astype(int32)``), the offset ``center -
            center_int`` and the size ``(w, h)``.
        """
        center = torch.stack([(bboxes[..., 0] + bboxes[..., 2]) / 2,
                              (bboxes[..., 1] + bboxes[..., 3]) / 2], dim=-1)
        center_int = center.to(torch.int32).to(torch.int64)
        offset = center - center_int.to(center.dtype)
        wh = torch.stack([bboxes[..., 2] - bboxes[..., 0], bboxes[..., 3] - bboxes[..., 1]], -1)
        return center, center_int, offset, wh

    def decode(self,
               heatmap: Tensor,
               wh: Tensor,
               offset: Optional[Tensor] = None,
               k: Optional[int] = None,
               stride: float = 1.0,
               apply_nms: bool = True,
               kernel: Optional[int] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """Decode heatmap peaks into boxes (CenterNet's ``ctdet_decode``).

        Args:
            heatmap: (B, C, H, W) class probabilities (after sigmoid).
            wh: (B, 2, H, W) sizes ``(w, h)`` in map pixels, or (B, 2C, H, W) class-specific.
            offset: (B, 2, H, W) sub-pixel centre offsets ``(dx, dy)``; ``None`` uses 0.5.
            k: Peaks per image (default ``self.topk``, else 100).
            stride: Multiplier from map pixels to the wanted coordinates (4 for input pixels).
            apply_nms: Run the 3x3 peak test first.
            kernel: Max-pool window of the peak test (default ``self.local_maximum_kernel``,
                else 3).

        Returns:
            ``(bboxes, scores, labels)``: (B, K, 4) ``(x1, y1, x2, y2)``, (B, K) descending scores
            and (B, K) int64 0-based classes.
        """
        k = k if k is not None else (self.topk if self.topk is not None else 100)
        if kernel is None:
            kernel = self.local_maximum_kernel if self.local_maximum_kernel is not None else 3
        if apply_nms:
            heatmap = heatmap_nms(heatmap, kernel)
        scores, inds, labels, ys, xs = topk_two_stage(heatmap, k)
        if offset is not None:
            off = gather_feat(offset, inds)
            xs = xs + off[..., 0]
            ys = ys + off[..., 1]
        else:
            xs = xs + 0.5
            ys = ys + 0.5
        size = gather_feat(wh, inds)
        if wh.shape[1] != 2:  # class-specific sizes: pick the pair of the peak's class
            size = size.reshape(*size.shape[:2], -1, 2)
            size = size.gather(2, labels[..., None, None].expand(-1, -1, 1, 2)).squeeze(2)
        half_w = size[..., 0] / 2
        half_h = size[..., 1] / 2
        bboxes = torch.stack([xs - half_w, ys - half_h, xs + half_w, ys + half_h], dim=-1)
        if stride != 1:
            bboxes = bboxes * stride
        return bboxes, scores, labels
