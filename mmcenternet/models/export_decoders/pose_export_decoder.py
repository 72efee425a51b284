# Copyright (c) mmcenternet contributors. All rights reserved.
"""``multi_pose`` decoding for export (see :mod:`.base`)."""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import heatmap_nms
from mmcenternet.models.task_modules.coders.pose_decode import snap_joints
from .base import PAD_SCORE, LastStackDecoder, flat_padded, gather_flat, topk_two_stage_fixed

__all__ = ['MultiPoseDecoder']


class MultiPoseDecoder(LastStackDecoder):
    """``multi_pose`` decoding of the last stack (no flip test).

    Returns ``(bboxes, scores, labels, keypoints)``: (B, K, 4), (B, K), (B, K) and (B, K, J, 2),
    in network-input pixels.

    Args:
        hm_hp_thresh: Joint peaks must score above this to be used.
        dist_ratio: A joint snaps to a peak at most ``dist_ratio * max(box w, box h)`` away.
    """

    output_names = LastStackDecoder.output_names + ('keypoints', )

    def __init__(self, heads: Sequence[str], num_stacks: int, topk: int, kernel: int,
                 stride: float, hm_hp_thresh: float = 0.1, dist_ratio: float = 0.3) -> None:
        super().__init__(heads, num_stacks, topk, kernel, stride)
        self.hm_hp_thresh = float(hm_hp_thresh)
        self.dist_ratio = float(dist_ratio)

    def forward(self, outs: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        maps = self.last_stack(outs)
        k = self.topk
        heat = heatmap_nms(maps['hm'].sigmoid(), self.kernel)
        scores, inds, labels, ys, xs = topk_two_stage_fixed(heat, k)
        hps = gather_flat(flat_padded(maps['hps'], k, 0.0), inds)  # (B, K, 2J)
        kps = hps.reshape(hps.shape[0], hps.shape[1], -1, 2) + \
            torch.stack([xs, ys], dim=-1).unsqueeze(2)
        if 'reg' in maps:
            off = gather_flat(flat_padded(maps['reg'], k, 0.0), inds)
            cx, cy = xs + off[..., 0], ys + off[..., 1]
        else:
            cx, cy = xs + 0.5, ys + 0.5
        size = gather_flat(flat_padded(maps['wh'], k, 0.0), inds)
        half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
        bboxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=-1)
        if 'hm_hp' in maps:
            kps = self._refine(kps, bboxes, maps['hm_hp'].sigmoid(), maps.get('hp_offset'))
        return bboxes * self.stride, scores, labels, kps * self.stride

    def _refine(self, kps: Tensor, bboxes: Tensor, hm_hp: Tensor, hp_offset) -> Tensor:
        """Snap regressed joints to joint-heatmap peaks (:func:`snap_joints`, fixed-size peaks)."""
        k, thresh = self.topk, self.hm_hp_thresh
        width = hm_hp.shape[3]
        hm_hp = heatmap_nms(hm_hp, self.kernel)
        peak_scores, peak_inds = torch.topk(flat_padded(hm_hp, k, PAD_SCORE), k, dim=2)
        peak_ys = torch.div(peak_inds, width, rounding_mode='floor')
        peak_xs = (peak_inds - peak_ys * width).to(hm_hp.dtype)
        peak_ys = peak_ys.to(hm_hp.dtype)
        if hp_offset is not None:
            b, j = peak_inds.shape[:2]
            off = gather_flat(flat_padded(hp_offset, k, 0.0), peak_inds.flatten(1))
            off = off.reshape(b, j, k, 2)
            peak_xs, peak_ys = peak_xs + off[..., 0], peak_ys + off[..., 1]
        else:
            peak_xs, peak_ys = peak_xs + 0.5, peak_ys + 0.5
        return snap_joints(kps, bboxes, peak_xs, peak_ys, peak_scores, thresh, self.dist_ratio)
