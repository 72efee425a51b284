# Copyright (c) mmcenternet contributors. All rights reserved.
"""``ctdet`` decoding for export (see :mod:`.base`)."""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import heatmap_nms
from .base import LastStackDecoder, flat_padded, gather_flat, topk_two_stage_fixed

__all__ = ['CtdetDecoder']


class CtdetDecoder(LastStackDecoder):
    """``ctdet`` decoding of the last stack.

    Returns ``(bboxes, scores, labels)``: (B, K, 4) ``(x1, y1, x2, y2)`` in network-input
    pixels, (B, K) descending scores and (B, K) int64 0-based classes.
    """

    def forward(self, outs: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        maps = self.last_stack(outs)
        k = self.topk
        heat = heatmap_nms(maps['hm'].sigmoid(), self.kernel)
        scores, inds, labels, ys, xs = topk_two_stage_fixed(heat, k)
        if 'reg' in maps:
            off = gather_flat(flat_padded(maps['reg'], k, 0.0), inds)
            xs, ys = xs + off[..., 0], ys + off[..., 1]
        else:
            xs, ys = xs + 0.5, ys + 0.5
        wh = maps['wh']
        size = gather_flat(flat_padded(wh, k, 0.0), inds)
        if wh.shape[1] != 2:  # class-specific sizes
            size = size.reshape(size.shape[0], size.shape[1], -1, 2)
            size = size.gather(2, labels[..., None, None].expand(-1, -1, 1, 2)).squeeze(2)
        half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
        bboxes = torch.stack([xs - half_w, ys - half_h, xs + half_w, ys + half_h], dim=-1)
        return bboxes * self.stride, scores, labels
