# Copyright (c) mmcenternet contributors. All rights reserved.
"""``exdet`` decoding written for export: the original's brute-force grouping, in fixed-size blocks.

The PyTorch decoder (:class:`~mmcenternet.models.task_modules.CenterNetExdetDecoder`) finds the
best quadruples of extreme points with a data-dependent search (bounds, early stop) that has no
static-graph form. Here every one of the K^4 quadruples is scored, as in the original, but never
all at once: the top points are taken a few at a time (a block of ``T x K^3`` quadruples, about
``chunk`` of them), each block's best ``num_dets`` are merged into a running best ``num_dets``.
The loop is unrolled when traced (K / T blocks, a fixed number for a fixed K), so the graph holds
only standard operators and its memory is bounded by the block, whatever the maps.

The result is the exact top ``num_dets`` of the original's float32 scores: the score formula and
its rules are the very function of the PyTorch path
(:func:`~mmcenternet.models.utils.exdet_grouping.penalised_scores`). Equal scores are ordered by
quadruple index ``((t * K + l) * K + b) * K + r`` (ONNX ``TopK`` keeps the lower index first and
the running merge puts earlier blocks first), where ``torch.topk`` leaves the order of ties open.

Maps with fewer than K cells per extreme map (inputs under 40 x 40 pixels at stride 4 with
class-agnostic maps) get padding peaks of score :data:`EXDET_PAD_SCORE`; quadruples that use one
score far below any real quadruple (real scores are above -6).
"""
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor

from mmcenternet.models.utils.exdet_grouping import penalised_scores
from mmcenternet.models.utils.heatmap_ops import heatmap_nms
from .base import LastStackDecoder, topk_two_stage_fixed

__all__ = ['ExdetDecoder', 'EXDET_PAD_SCORE']

#: Score of padding peaks; every quadruple using one scores below -1000.
EXDET_PAD_SCORE = -1.0e4

#: The extreme points, in the original's order.
PARTS = ('t', 'l', 'b', 'r')


class ExdetDecoder(LastStackDecoder):
    """``exdet`` decoding of the last stack (``exct_decode``, or ``agnex_ct_decode`` when the
    extreme maps have one channel and the centre map several).

    Returns ``(bboxes, scores, labels, extreme_points)``: (B, N, 4) boxes
    ``(x_l, y_t, x_r, y_b)``, (B, N) descending scores (negative: penalised quadruples, as the
    original returns them), (B, N) int64 0-based classes and (B, N, 4, 2) points ``t, l, b, r``
    as ``(x, y)``; coordinates in network-input pixels, N = ``num_dets``.

    Args:
        heads: Branch names of one stack, in the network's output order.
        num_stacks: Stacks of the network (the last one is decoded).
        topk: Peaks per extreme map (K).
        kernel: Max-pool window of the peak test.
        stride: Output stride of the maps.
        num_dets: Quadruples returned per image.
        scores_thresh: Minimum extreme score of a rule-abiding quadruple.
        center_thresh: Minimum centre score of a rule-abiding quadruple.
        chunk: About this many quadruples are scored at once (the block size).
    """

    output_names = LastStackDecoder.output_names + ('extreme_points', )

    def __init__(self, heads: Sequence[str], num_stacks: int, topk: int, kernel: int,
                 stride: float, num_dets: int = 1000, scores_thresh: float = 0.1,
                 center_thresh: float = 0.1, chunk: int = 1 << 21) -> None:
        super().__init__(heads, num_stacks, topk, kernel, stride)
        self.num_dets = int(num_dets)
        self.scores_thresh = float(scores_thresh)
        self.center_thresh = float(center_thresh)
        self.chunk = int(chunk)
        missing = [f'hm_{p}' for p in PARTS + ('c', ) if f'hm_{p}' not in self.heads]
        if missing:
            raise ValueError(f'exdet decoding needs the branches {missing}; got {self.heads}')

    @property
    def rows(self) -> int:
        return self.num_dets

    def metadata(self) -> Dict[str, str]:
        return dict(super().metadata(), num_dets=str(self.num_dets))

    def forward(self, outs: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        maps = self.last_stack(outs)
        k = self.topk
        center = maps['hm_c'].sigmoid()
        height, width = center.shape[2], center.shape[3]
        cells = height * width
        peaks = []  # per part: scores (B, K), cell (B, K), labels (B, K), ys, xs (int64)
        for p in PARTS:
            heat = heatmap_nms(maps[f'hm_{p}'].sigmoid(), self.kernel).clamp(max=1)
            scores, inds, labels, _, _ = topk_two_stage_fixed(heat, k, EXDET_PAD_SCORE)
            # padding peaks (inds >= H*W) get the coordinates of a real cell: every gather
            # stays in range, and their score keeps their quadruples last
            cell = inds - torch.div(inds, cells, rounding_mode='floor') * cells
            ys = torch.div(cell, width, rounding_mode='floor')
            peaks.append((scores, cell, labels, ys, cell - ys * width))
        agnostic = maps['hm_t'].shape[1] == 1 and center.shape[1] != 1
        if agnostic:  # centre score: best class at the cell; class: its arg-max
            center_cls = center.argmax(dim=1).flatten(1)
            center = center.amax(dim=1, keepdim=True)
            key = torch.zeros_like(peaks[0][2])
        else:
            center_cls, key = None, peaks[0][2]
        best, quad = self._group(peaks, key, center.flatten(1), width, cells)
        it, il, ib, ir = (torch.div(quad, k**(3 - j), rounding_mode='floor') -
                          torch.div(quad, k**(4 - j), rounding_mode='floor') * k
                          for j in range(4))
        points = []
        for p, (_, cell, _, ys, xs), idx in zip(PARTS, peaks, (it, il, ib, ir)):
            px, py = xs.gather(1, idx).to(best.dtype), ys.gather(1, idx).to(best.dtype)
            if f'reg_{p}' in maps:
                off = maps[f'reg_{p}'].flatten(2)  # (B, 2, H*W)
                at = cell.gather(1, idx).unsqueeze(1).expand(-1, 2, -1)
                off = off.gather(2, at)
                px, py = px + off[:, 0], py + off[:, 1]
            else:
                px, py = px + 0.5, py + 0.5
            points.append(torch.stack([px, py], dim=-1))
        if agnostic:
            cx = torch.div(peaks[1][4].gather(1, il) + peaks[3][4].gather(1, ir), 2,
                           rounding_mode='floor')
            cy = torch.div(peaks[0][3].gather(1, it) + peaks[2][3].gather(1, ib), 2,
                           rounding_mode='floor')
            labels = center_cls.gather(1, cy * width + cx)
        else:
            labels = peaks[0][2].gather(1, it)
        pts = torch.stack(points, dim=2)  # (B, N, 4, 2): t, l, b, r
        bboxes = torch.stack([pts[:, :, 1, 0], pts[:, :, 0, 1], pts[:, :, 3, 0],
                              pts[:, :, 2, 1]], dim=-1)
        return bboxes * self.stride, best, labels, pts * self.stride

    def _group(self, peaks, key: Tensor, center: Tensor, width, cells) -> Tuple[Tensor, Tensor]:
        """The ``num_dets`` best quadruples: (B, N) scores and flat indices ``((t K + l) K + b)
        K + r``, scoring ``T`` top points against all (l, b, r) per block."""
        k = self.topk
        n = min(self.num_dets, k**4)
        step = max(1, min(k, self.chunk // k**3))
        (st, _, ct, ty, tx), (sl, _, cl, ly, lx), (sb, _, cb, by, bx), (sr, _, cr, ry, rx) = peaks

        def axis(v: Tensor, dim: int) -> Tensor:  # (B, len) -> broadcastable along ``dim``
            shape = [-1, 1, 1, 1, 1]
            shape[dim] = v.shape[1]
            return v.reshape(shape)

        # (l, b, r) terms, shared by every block
        lx_, ly_, sl_, cl_ = (axis(v, 2) for v in (lx, ly, sl, cl))
        bx_, by_, sb_, cb_ = (axis(v, 3) for v in (bx, by, sb, cb))
        rx_, ry_, sr_, cr_ = (axis(v, 4) for v in (rx, ry, sr, cr))
        cx = torch.div(lx_ + rx_, 2, rounding_mode='floor')  # (B, 1, K, 1, K)
        best_s, best_i, kept = None, None, 0
        for t0 in range(0, k, step):
            t1 = min(k, t0 + step)
            tx_, ty_, st_, ct_, key_ = (axis(v[:, t0:t1], 1) for v in (tx, ty, st, ct, key))
            cy = torch.div(ty_ + by_, 2, rounding_mode='floor')  # (B, T, 1, K, 1)
            at = (key_ * cells + cy * width) + cx  # (B, T, K, K, K)
            sc = center.gather(1, at.flatten(1)).reshape(at.shape)
            s = penalised_scores((st_, sl_, sb_, sr_), sc, (tx_, lx_, bx_, rx_),
                                 (ty_, ly_, by_, ry_), (ct_, cl_, cb_, cr_),
                                 self.scores_thresh, self.center_thresh).flatten(1)
            # sizes as Python numbers: the graph's TopK sizes stay constants
            s, i = torch.topk(s, min(n, (t1 - t0) * k**3), dim=1)
            i = i + t0 * k**3
            if best_s is not None:  # earlier blocks first: ties keep the lower index first
                s, i = torch.cat([best_s, s], 1), torch.cat([best_i, i], 1)
                s, pos = torch.topk(s, min(n, kept + (t1 - t0) * k**3), dim=1)
                i = i.gather(1, pos)
            kept = min(n, kept + (t1 - t0) * k**3)
            best_s, best_i = s, i
        return best_s, best_i
