# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's ``exdet`` decoding: extreme-point peaks grouped into boxes by a centre check."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mmcenternet.models.utils.edge_aggregation import h_aggregate, v_aggregate
from mmcenternet.models.utils.exdet_grouping import group_extreme_points
from mmcenternet.models.utils.heatmap_ops import gather_feat, heatmap_nms, topk_two_stage
from mmcenternet.registry import TASK_UTILS

#: The four extreme points in the original's order.
EXTREME_PARTS = ('t', 'l', 'b', 'r')


@TASK_UTILS.register_module()
class CenterNetExdetDecoder:
    """``exct_decode`` / ``agnex_ct_decode`` of the original, batched, exact and memory-bounded.

    Steps per image: 3x3 peak test on the four extreme maps (not on the centre map), values above
    1 set to 1; the ``topk`` best peaks of each extreme map over classes and positions; every
    (t, l, b, r) quadruple of those peaks scored with the centre map at the quadruple's centre
    cell and penalised for broken rules (see :mod:`mmcenternet.models.utils.exdet_grouping`);
    the ``num_dets`` best quadruples; sub-pixel offsets added to their points (``+0.5`` without
    offset maps); box ``(x_l, y_t, x_r, y_b)``.

    Class-specific (default): the centre map of the top point's class is read and the class is
    the top point's. Class-agnostic extreme maps (one channel each, the original's
    ``--agnostic_ex``): the centre score is the maximum over classes at the centre cell and the
    class its arg-max; the class rule never fires.

    The head passes the settings of its ``test_cfg`` (their home) to :meth:`decode`; the values
    given here are the defaults of a decoder used on its own.

    Args:
        topk: Peaks per extreme map (the original's ``K``, 100 at test time). This and the next
            four default to :data:`DEFAULTS` when ``None``.
        num_dets: Quadruples returned per image (1000).
        scores_thresh: Minimum extreme score of a rule-abiding quadruple (0.1).
        center_thresh: Minimum centre score of a rule-abiding quadruple (0.1).
        local_maximum_kernel: Max-pool window of the peak test (3).
        chunk: Quadruples scored at once (memory bound of the grouping).
    """

    #: Settings used where neither :meth:`decode` nor the constructor gives one.
    DEFAULTS = dict(topk=100, num_dets=1000, scores_thresh=0.1, center_thresh=0.1,
                    local_maximum_kernel=3)

    def __init__(self,
                 topk: Optional[int] = None,
                 num_dets: Optional[int] = None,
                 scores_thresh: Optional[float] = None,
                 center_thresh: Optional[float] = None,
                 local_maximum_kernel: Optional[int] = None,
                 chunk: int = 1 << 20) -> None:
        given = dict(topk=topk, num_dets=num_dets, scores_thresh=scores_thresh,
                     center_thresh=center_thresh, local_maximum_kernel=local_maximum_kernel)
        #: The settings given to the constructor (``None``: not given).
        self.given = given
        for key, value in given.items():
            setattr(self, key, self.DEFAULTS[key] if value is None else value)
        self.chunk = chunk
        #: Per image of the last :meth:`decode` call, the grouping's work counts (``quadruples``,
        #: ``scored``, ``triples``, ``blocks``).
        self.last_stats = []

    def decode(self,
               heatmaps: Dict[str, Tensor],
               offsets: Optional[Dict[str, Tensor]] = None,
               topk: Optional[int] = None,
               num_dets: Optional[int] = None,
               scores_thresh: Optional[float] = None,
               center_thresh: Optional[float] = None,
               kernel: Optional[int] = None,
               aggr_weight: float = 0.0) -> Tensor:
        """Decode probabilities into the original's 14-column detections.

        Args:
            heatmaps: ``t``, ``l``, ``b``, ``r`` (B, C_e, H, W) extreme-point probabilities
                (C_e = C, or 1 for class-agnostic maps) and ``c`` (B, C, H, W) centre
                probabilities.
            offsets: ``t``, ``l``, ``b``, ``r`` (B, 2, H, W) sub-pixel offsets ``(dx, dy)``, or
                ``None`` (points at the cell centre, ``+0.5``).
            topk: Override of ``self.topk``.
            num_dets: Override of ``self.num_dets``.
            scores_thresh, center_thresh, kernel: Overrides of ``self.scores_thresh``,
                ``self.center_thresh`` and ``self.local_maximum_kernel``.
            aggr_weight: ExtremeNet's edge aggregation before the peak test (the original's
                ``aggr_weight``, 0: off; see :mod:`~mmcenternet.models.utils.edge_aggregation`).

        Returns:
            (B, N, 14) float32 rows ``[x1, y1, x2, y2, score, x_t, y_t, x_l, y_l, x_b, y_b, x_r,
            y_r, label]`` in output-map pixels, descending score (negative scores are penalised
            quadruples), ``label`` 0-based.
        """
        k = self.topk if topk is None else topk
        n = self.num_dets if num_dets is None else num_dets
        scores_thresh = self.scores_thresh if scores_thresh is None else scores_thresh
        center_thresh = self.center_thresh if center_thresh is None else center_thresh
        kernel = self.local_maximum_kernel if kernel is None else kernel
        center = heatmaps['c']
        agnostic = heatmaps['t'].shape[1] == 1 and center.shape[1] != 1
        peaks = []
        for p in EXTREME_PARTS:
            heat = heatmaps[p]
            if aggr_weight > 0:  # rows for the top / bottom points, columns for left / right
                heat = (h_aggregate if p in 'tb' else v_aggregate)(heat, aggr_weight)
            heat = heatmap_nms(heat, kernel).clamp(max=1)
            peaks.append(topk_two_stage(heat, k))
        b, _, h, w = center.shape
        if agnostic:
            center_map, center_cls = center.max(dim=1, keepdim=True)
        else:
            center_map, center_cls = center, None
        rows = []
        self.last_stats = []
        for i in range(b):
            sc = torch.stack([pk[0][i] for pk in peaks])
            inds = torch.stack([pk[1][i] for pk in peaks])
            lab = torch.stack([pk[2][i] for pk in peaks])
            ys = torch.div(inds, w, rounding_mode='floor')
            xs = inds % w
            key = torch.zeros_like(lab[0]) if agnostic else None
            stats = {}
            scores, quad = group_extreme_points(
                sc, xs, ys, lab, center_map[i], num_dets=n, center_key=key,
                scores_thresh=scores_thresh, center_thresh=center_thresh,
                chunk=self.chunk, stats=stats)
            self.last_stats.append(stats)
            pts = []
            for j, p in enumerate(EXTREME_PARTS):
                idx = quad[:, j]
                px = xs[j][idx].to(scores.dtype)
                py = ys[j][idx].to(scores.dtype)
                if offsets is not None and offsets.get(p) is not None:
                    off = gather_feat(offsets[p][i:i + 1], inds[j][idx][None])[0]
                    px = px + off[:, 0]
                    py = py + off[:, 1]
                else:
                    px = px + 0.5
                    py = py + 0.5
                pts.append((px, py))
            if agnostic:
                cx = torch.div(xs[1][quad[:, 1]] + xs[3][quad[:, 3]], 2, rounding_mode='floor')
                cy = torch.div(ys[0][quad[:, 0]] + ys[2][quad[:, 2]], 2, rounding_mode='floor')
                label = center_cls[i, 0][cy, cx]
            else:
                label = lab[0][quad[:, 0]]
            (xt, yt), (xl, yl), (xb, yb), (xr, yr) = pts
            rows.append(torch.stack([xl, yt, xr, yb, scores, xt, yt, xl, yl, xb, yb, xr, yr,
                                     label.to(scores.dtype)], dim=1))
        return torch.stack(rows) if rows else center.new_zeros((0, 0, 14))
