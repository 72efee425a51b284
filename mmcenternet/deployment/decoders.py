# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet decoding written for export: fixed K, no shape-dependent Python branches.

The decoders take the network's flat raw maps and return fixed-size tensors, exactly the
detections of the PyTorch decoders (:meth:`CenterNetDetHead.decode_maps`,
:func:`mmcenternet.pose.decode.multi_pose_decode`) on the last stack: plain sigmoid, 3x3
max-pool peak test, top-K first per class then overall, gathers of the regression maps.

The only difference is for maps with fewer than K cells (inputs under 40x40 pixels at stride 4),
where the PyTorch decoders return fewer than K rows: here the missing rows are filled with
padding rows whose score is -1. Every score of a real detection is >= 0.
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import heatmap_nms
from mmcenternet.pose.decode import snap_joints

__all__ = ['CtdetDecoder', 'MultiPoseDecoder', 'PAD_SCORE']

#: Score of the padding rows (maps with fewer than K cells).
PAD_SCORE = -1.0


def _flat_padded(maps: Tensor, k: int, value: float) -> Tensor:
    """(B, D, H, W) -> (B, D, H*W + k): the flattened map followed by ``k`` cells of ``value``.

    Top-K over the result always has K candidates, whatever the input size, and gathering at
    any of its indices stays in range.
    """
    flat = maps.flatten(2)
    pad = torch.full_like(flat[:, :, :1], value).expand(-1, -1, k)
    return torch.cat([flat, pad], dim=2)


def _gather(flat: Tensor, inds: Tensor) -> Tensor:
    """(B, D, N) values at (B, M) indices -> (B, M, D)."""
    idx = inds.unsqueeze(1).expand(-1, flat.shape[1], -1)
    return flat.gather(2, idx).transpose(1, 2)


def topk_two_stage_fixed(heat: Tensor, k: int, pad_score: float = PAD_SCORE
                         ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """:func:`~mmcenternet.models.utils.heatmap_ops.topk_two_stage` with exactly K rows.

    Returns ``(scores, inds, labels, ys, xs)``, each (B, K); ``inds`` index the flattened map
    (values >= H*W belong to padding rows, whose score is ``pad_score``).
    """
    width = heat.shape[3]
    scores = _flat_padded(heat, k, pad_score)
    cls_scores, cls_inds = torch.topk(scores, k, dim=2)  # (B, C, K)
    top_scores, top_idx = torch.topk(cls_scores.flatten(1), k, dim=1)  # (B, K)
    labels = torch.div(top_idx, k, rounding_mode='floor')
    inds = cls_inds.flatten(1).gather(1, top_idx)
    ys = torch.div(inds, width, rounding_mode='floor').to(heat.dtype)
    xs = (inds - torch.div(inds, width, rounding_mode='floor') * width).to(heat.dtype)
    return top_scores, inds, labels, ys, xs


class _LastStack(nn.Module):
    """Common part: picks the last stack's maps out of the flat raw output."""

    #: Names of the outputs of :meth:`forward`, in order.
    output_names = ('bboxes', 'scores', 'labels')

    def __init__(self, heads: Sequence[str], num_stacks: int, topk: int, kernel: int,
                 stride: float) -> None:
        super().__init__()
        self.heads = list(heads)
        self.num_stacks = int(num_stacks)
        self.topk = int(topk)
        self.kernel = int(kernel)
        self.stride = float(stride)

    @property
    def rows(self) -> int:
        """Detections returned per image (the size of every output's axis 1)."""
        return self.topk

    def metadata(self) -> Dict[str, str]:
        """Settings recorded in the exported file's metadata."""
        return {'topk': str(self.topk)}

    def last_stack(self, outs: Sequence[Tensor]) -> Dict[str, Tensor]:
        n = len(self.heads)
        if len(outs) != n * self.num_stacks:
            raise ValueError(f'expected {n * self.num_stacks} raw maps, got {len(outs)}')
        return dict(zip(self.heads, outs[-n:]))


class CtdetDecoder(_LastStack):
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
            off = _gather(_flat_padded(maps['reg'], k, 0.0), inds)
            xs, ys = xs + off[..., 0], ys + off[..., 1]
        else:
            xs, ys = xs + 0.5, ys + 0.5
        wh = maps['wh']
        size = _gather(_flat_padded(wh, k, 0.0), inds)
        if wh.shape[1] != 2:  # class-specific sizes
            size = size.reshape(size.shape[0], size.shape[1], -1, 2)
            size = size.gather(2, labels[..., None, None].expand(-1, -1, 1, 2)).squeeze(2)
        half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
        bboxes = torch.stack([xs - half_w, ys - half_h, xs + half_w, ys + half_h], dim=-1)
        return bboxes * self.stride, scores, labels


class MultiPoseDecoder(_LastStack):
    """``multi_pose`` decoding of the last stack (no flip test).

    Returns ``(bboxes, scores, labels, keypoints)``: (B, K, 4), (B, K), (B, K) and (B, K, J, 2),
    in network-input pixels.

    Args:
        hm_hp_thresh: Joint peaks must score above this to be used.
        dist_ratio: A joint snaps to a peak at most ``dist_ratio * max(box w, box h)`` away.
    """

    output_names = _LastStack.output_names + ('keypoints', )

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
        hps = _gather(_flat_padded(maps['hps'], k, 0.0), inds)  # (B, K, 2J)
        kps = hps.reshape(hps.shape[0], hps.shape[1], -1, 2) + \
            torch.stack([xs, ys], dim=-1).unsqueeze(2)
        if 'reg' in maps:
            off = _gather(_flat_padded(maps['reg'], k, 0.0), inds)
            cx, cy = xs + off[..., 0], ys + off[..., 1]
        else:
            cx, cy = xs + 0.5, ys + 0.5
        size = _gather(_flat_padded(maps['wh'], k, 0.0), inds)
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
        peak_scores, peak_inds = torch.topk(_flat_padded(hm_hp, k, PAD_SCORE), k, dim=2)
        peak_ys = torch.div(peak_inds, width, rounding_mode='floor')
        peak_xs = (peak_inds - peak_ys * width).to(hm_hp.dtype)
        peak_ys = peak_ys.to(hm_hp.dtype)
        if hp_offset is not None:
            b, j = peak_inds.shape[:2]
            off = _gather(_flat_padded(hp_offset, k, 0.0), peak_inds.flatten(1))
            off = off.reshape(b, j, k, 2)
            peak_xs, peak_ys = peak_xs + off[..., 0], peak_ys + off[..., 1]
        else:
            peak_xs, peak_ys = peak_xs + 0.5, peak_ys + 0.5
        return snap_joints(kps, bboxes, peak_xs, peak_ys, peak_scores, thresh, self.dist_ratio)
