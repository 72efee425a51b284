# Copyright (c) mmcenternet contributors. All rights reserved.
"""Exact top-N grouping of extreme points (CenterNet ``exdet``), with bounded memory.

CenterNet's ``exct_decode`` scores every quadruple (top, left, bottom, right) of the K best peaks
of the four extreme-point heat maps -- K^4 = 10^8 quadruples per image at K = 100 -- and keeps the
``num_dets`` best. The score of a quadruple is

    ((((s_t + s_l) + s_b) + s_r) + 2 * s_c) / 6   (float32, in this order)

minus 1 for each failed rule (classes not all equal; top not topmost; left not leftmost; bottom
not lowest; right not rightmost; an extreme score below ``scores_thresh`` or the centre score below
``center_thresh``), where ``s_c`` is the centre heat map of the top point's class read at
``(floor((x_l + x_r + 0.5) / 2), floor((y_t + y_b + 0.5) / 2))``.

:func:`group_extreme_points` returns the same ``num_dets`` quadruples and the same float32 scores
without ever materialising the K^4 array:

1. For every triple (t, l, b) (K^3 = 10^6) it computes an upper bound of the score of any
   quadruple it belongs to: its partial score, plus the best right score and twice the best
   centre score on the centre row the triple fixes, minus the penalties already certain.
2. The triples with the best bounds (at least 4 N quadruples) are scored first; their N-th best
   score excludes most other triples before those are sorted by bound.
3. The remaining triples are visited in descending bound order, in blocks that grow from a few
   thousand to at most ``chunk`` quadruples. For each triple only the right points that can
   still reach the current N-th best score are scored (right points sorted by score form a
   prefix, found by binary search); a block is one dense (triples x right points) array, merged
   into the running top N.
4. The visit stops at the first triple whose bound is below the current N-th best score: no
   remaining quadruple can enter the result.

Inside the blocks quadruples are ranked by ``score - penalties`` (one subtraction), which never
contradicts the original's order (the score is in [0, 1], each penalty subtracts 1); the
float32 scores of the N results are then computed the original's way (one subtraction of 1 per
failed rule). Peak memory is a few ``chunk``-sized temporaries plus a handful of K^3 arrays for
the bounds (about 0.1 GB at K = 100 with the default chunk), whatever the maps. Ties at the N-th
place may be resolved differently from ``torch.topk`` over all K^4 scores, as two ``torch.topk``
implementations would.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = ['group_extreme_points', 'quadruple_scores', 'penalised_scores']

#: Margin added to every upper bound (float32 rounding of the exact score is far below it).
_BOUND_EPS = 1e-5


def quadruple_scores(scores: Tensor, xs: Tensor, ys: Tensor, labels: Tensor, center: Tensor,
                     it: Tensor, il: Tensor, ib: Tensor, ir: Tensor,
                     center_key: Optional[Tensor] = None, scores_thresh: float = 0.1,
                     center_thresh: float = 0.1) -> Tensor:
    """Exact float32 scores of given quadruples (the reference for :func:`group_extreme_points`).

    Args:
        scores, xs, ys, labels: (4, K) peaks of the t, l, b, r maps (``xs``/``ys``/``labels``
            int64).
        center: (Cc, H, W) centre probabilities.
        it, il, ib, ir: (M,) peak indices of the quadruples.
        center_key: (K,) centre-map channel of each top peak (default: its label).
        scores_thresh, center_thresh: Rule thresholds.

    Returns:
        (M,) float32 scores.
    """
    _, h, w = center.shape
    key = labels[0] if center_key is None else center_key
    cx = torch.div(xs[1][il] + xs[3][ir], 2, rounding_mode='floor')
    cy = torch.div(ys[0][it] + ys[2][ib], 2, rounding_mode='floor')
    sc = center.reshape(-1)[key[it] * (h * w) + cy * w + cx]
    return penalised_scores(
        (scores[0][it], scores[1][il], scores[2][ib], scores[3][ir]), sc,
        (xs[0][it], xs[1][il], xs[2][ib], xs[3][ir]), (ys[0][it], ys[1][il], ys[2][ib], ys[3][ir]),
        (labels[0][it], labels[1][il], labels[2][ib], labels[3][ir]), scores_thresh,
        center_thresh)


def penalised_scores(parts: Sequence[Tensor], sc: Tensor, px: Sequence[Tensor],
                     py: Sequence[Tensor], classes: Sequence[Tensor], scores_thresh: float,
                     center_thresh: float) -> Tensor:
    """The original's float32 quadruple score from the values of its four points.

    Every argument broadcasts against the others, so a dense grid of quadruples can be given as
    per-point vectors shaped to their own axis (only the final sums and rules are full size).

    Args:
        parts: Extreme scores ``(s_t, s_l, s_b, s_r)``.
        sc: Centre score read at each quadruple's centre cell.
        px, py: Integer x and y of ``(t, l, b, r)``.
        classes: Classes of ``(t, l, b, r)``.
        scores_thresh, center_thresh: Rule thresholds.

    Returns:
        ``((((s_t + s_l) + s_b) + s_r) + 2 s_c) / 6`` minus 1 per failed rule, subtracted one
        rule at a time as the original does (float32 rounding included).
    """
    st, sl, sb, sr = parts
    tx, lx, bx, rx = px
    ty, ly, by, ry = py
    ct, cl, cb, cr = classes
    s = (st + sl + sb + sr + 2 * sc) / 6
    rules = [
        (st < scores_thresh) | (sl < scores_thresh) | (sb < scores_thresh) |
        (sr < scores_thresh) | (sc < center_thresh),
        (ct != cl) | (ct != cb) | (ct != cr),
        (ty > ly) | (ty > by) | (ty > ry),
        (lx > tx) | (lx > bx) | (lx > rx),
        (by < ty) | (by < ly) | (by < ry),
        (rx < tx) | (rx < lx) | (rx < bx),
    ]
    for rule in rules:
        s = s - rule.to(s.dtype)
    return s


def group_extreme_points(scores: Tensor,
                         xs: Tensor,
                         ys: Tensor,
                         labels: Tensor,
                         center: Tensor,
                         num_dets: int = 1000,
                         center_key: Optional[Tensor] = None,
                         scores_thresh: float = 0.1,
                         center_thresh: float = 0.1,
                         chunk: int = 1 << 20,
                         stats: Optional[dict] = None) -> Tuple[Tensor, Tensor]:
    """The ``num_dets`` best quadruples of one image, exactly as the brute-force grouping.

    Args:
        scores: (4, K) float32 peak scores of the t, l, b, r maps, each row sorted descending.
        xs, ys: (4, K) int64 integer peak positions (output-map pixels).
        labels: (4, K) int64 peak classes (all 0 for class-agnostic extreme maps).
        center: (Cc, H, W) float32 centre probabilities.
        num_dets: Quadruples returned (clamped to K^4).
        center_key: (K,) int64 centre-map channel read for each top peak (default: its class;
            class-agnostic decoding passes zeros and a max-over-classes centre map).
        scores_thresh: Minimum extreme-point score of a rule-abiding quadruple.
        center_thresh: Minimum centre score of a rule-abiding quadruple.
        chunk: Largest number of quadruples scored at once (bounds the memory).
        stats: If given, filled with ``quadruples`` (K^4), ``scored`` (quadruples whose exact
            score was computed), ``triples`` (triples visited) and ``blocks``.

    Returns:
        ``(scores, quad)``: (N,) float32 scores in descending order and (N, 4) int64 indices
        ``(t, l, b, r)`` into the K peaks of each map.
    """
    device = scores.device
    k = scores.shape[1]
    if k == 0 or num_dets <= 0:
        return scores.new_zeros(0), torch.zeros((0, 4), dtype=torch.int64, device=device)
    n_top = min(int(num_dets), k**4)
    _, h, w = center.shape
    key = labels[0] if center_key is None else center_key
    st, sl, sb, sr = scores[0], scores[1], scores[2], scores[3]
    tx, lx, bx, rx = xs[0], xs[1], xs[2], xs[3]
    ty, ly, by, ry = ys[0], ys[1], ys[2], ys[3]
    ct_, cl, cb, cr = labels[0], labels[1], labels[2], labels[3]

    # Right peaks by descending score (a stable order, so equal scores keep their rank).
    r_order = torch.sort(sr, descending=True, stable=True).indices
    sr_s, rx_s, ry_s, cr_s = sr[r_order], rx[r_order], ry[r_order], cr[r_order]
    center_flat = center.reshape(-1)

    # ---- upper bound of every triple (t, l, b), laid out t-major: index = (t * K + l) * K + b
    T = lambda v: v.view(k, 1, 1)  # noqa: E731
    L = lambda v: v.view(1, k, 1)  # noqa: E731
    B = lambda v: v.view(1, 1, k)  # noqa: E731
    partial = (T(st) + L(sl)) + B(sb)  # float32, the original's summation order
    cy = torch.div(T(ty) + B(by), 2, rounding_mode='floor')
    # best centre score on the (channel, row) the triple reads: bounds s_c for every right peak
    row_max = center.amax(dim=2).reshape(-1)[T(key) * h + cy]
    certain = (((T(st) < scores_thresh) | (L(sl) < scores_thresh) | (B(sb) < scores_thresh)) |
               (row_max < center_thresh)).to(torch.int8) \
        + ((T(ct_) != L(cl)) | (T(ct_) != B(cb))) \
        + ((T(ty) > L(ly)) | (T(ty) > B(by))) \
        + ((L(lx) > T(tx)) | (L(lx) > B(bx))) \
        + ((B(by) < T(ty)) | (B(by) < L(ly)))
    # bound of quadruple (triple, r) = base[triple] + s_r / 6
    base = ((partial.double() + 2 * row_max.double()) / 6 - certain + _BOUND_EPS).reshape(-1)
    del partial, cy, row_max, certain
    neg_sr = -sr_s.double()  # ascending, for searchsorted

    def reachable(b: Tensor, tau: float) -> Tensor:
        """Right peaks (a prefix of ``r_order``) with ``b + s_r / 6 >= tau``."""
        return torch.searchsorted(neg_sr, 6 * (b - tau), side='right')

    state = dict(scores=scores.new_zeros(0),
                 index=torch.zeros(0, dtype=torch.int64, device=device),
                 scored=0, triples=0, blocks=0)

    def tau_now() -> float:
        return float(state['scores'][-1]) if len(state['scores']) >= n_top else -float('inf')

    def score_block(tri: Tensor, kr: int, counts: Optional[Tensor]) -> None:
        """Exact scores of the triples ``tri`` with the first ``kr`` right peaks (fewer where
        ``counts`` says so), merged into the running top N."""
        state['blocks'] += 1
        state['triples'] += len(tri)
        t = torch.div(tri, k * k, rounding_mode='floor')
        l_ = torch.div(tri, k, rounding_mode='floor') % k
        b = tri % k
        # per triple (column vectors) and per right peak (row vectors)
        tyb, lxb, byb, txb, bxb, ctb = (
            v[:, None] for v in (ty[t], lx[l_], by[b], tx[t], bx[b], ct_[t]))
        part = ((st[t] + sl[l_]) + sb[b])[:, None]
        row = (key[t] * (h * w) + ((ty[t] + by[b]) >> 1) * w)[:, None]  # coordinates are >= 0
        low3 = ((st[t] < scores_thresh) | (sl[l_] < scores_thresh) |
                (sb[b] < scores_thresh))[:, None]
        cls3 = ((ct_[t] != cl[l_]) | (ct_[t] != cb[b]))[:, None]
        top3 = ((ty[t] > ly[l_]) | (ty[t] > by[b]))[:, None]
        left3 = ((lx[l_] > tx[t]) | (lx[l_] > bx[b]))[:, None]
        bot3 = ((by[b] < ty[t]) | (by[b] < ly[l_]))[:, None]
        srr, rxr, ryr, crr = sr_s[None, :kr], rx_s[None, :kr], ry_s[None, :kr], cr_s[None, :kr]
        sc = center_flat[row + ((lxb + rxr) >> 1)]
        s = ((part + srr) + 2 * sc) / 6
        pen = ((low3 | (srr < scores_thresh) | (sc < center_thresh)).to(torch.int8)
               + (cls3 | (ctb != crr)) + (top3 | (tyb > ryr)) + (left3 | (lxb > rxr))
               + (bot3 | (byb < ryr)) + ((rxr < txb) | (rxr < lxb) | (rxr < bxb)))
        # Ranking key ``s - pen`` (one subtraction): the exact score subtracts 1 ``pen`` times
        # and both orders agree (s is in [0, 1]), so the exact scores of the final N are
        # computed once at the end.
        s = s - pen
        if counts is not None:
            s = s.masked_fill(torch.arange(kr, device=device)[None] >= counts[:, None],
                              -float('inf'))
            state['scored'] += int(counts.sum())
        else:
            state['scored'] += s.numel()
        s = s.reshape(-1)
        flat = (tri[:, None] * k + r_order[None, :kr]).reshape(-1)
        tau = tau_now()
        if tau > -float('inf'):  # only what can still enter the top N
            sel = torch.nonzero(s >= tau).reshape(-1)
            s, flat = s[sel], flat[sel]
        if len(s) > n_top:
            s, sel = torch.topk(s, n_top)
            flat = flat[sel]
        all_s = torch.cat([state['scores'], s])
        all_i = torch.cat([state['index'], flat])
        state['scores'], sel = torch.topk(all_s, min(n_top, len(all_s)))
        state['index'] = all_i[sel]

    def visit(order: Tensor, bounds: Tensor) -> None:
        """Score triples in the given (descending-bound) order until none can reach the N-th
        best score."""
        pos, grow = 0, first_block
        while pos < len(order):
            tau = tau_now()
            # bounds descend, so the first triple of a block needs the most right peaks
            kr = k if tau == -float('inf') else int(reachable(bounds[pos:pos + 1], tau))
            if kr == 0:
                return  # no remaining quadruple can reach the current N-th best score
            # small blocks first (the N-th best score rises fast), then up to ``chunk``
            m = max(1, min(chunk, grow) // kr)
            grow *= 4
            counts = None if tau == -float('inf') else reachable(bounds[pos:pos + m], tau)
            score_block(order[pos:pos + m], kr, counts)
            pos += m

    n_tri = k**3
    first_block = 4 * n_top * 4
    # 1. a few of the best triples (>= 4 N quadruples) give a first N-th best score ...
    n_seed = min(n_tri, max(1, -(-4 * n_top // k)))
    seed_bounds, seed = torch.topk(base, n_seed)
    visit(seed, seed_bounds)
    base[seed] = -float('inf')
    # 2. ... which excludes most other triples before they are sorted and visited.
    tau = tau_now()
    if tau == -float('inf'):
        rest = torch.arange(n_tri, device=device)
    else:
        rest = torch.nonzero(base + float(sr_s[0]) / 6 >= tau).reshape(-1)
    rest = rest[torch.sort(base[rest], descending=True, stable=True).indices]
    visit(rest, base[rest])
    best_index = state['index']
    if stats is not None:
        stats.update(quadruples=k**4, scored=state['scored'], triples=state['triples'],
                     blocks=state['blocks'])
    quad = torch.stack([
        torch.div(best_index, k**3, rounding_mode='floor'),
        torch.div(best_index, k * k, rounding_mode='floor') % k,
        torch.div(best_index, k, rounding_mode='floor') % k, best_index % k
    ], dim=1)
    # the exact float32 scores of the selected quadruples (sequential subtractions), in
    # descending order (the ranking key already orders them up to ties)
    exact = quadruple_scores(scores, xs, ys, labels, center, *quad.T, center_key=key,
                             scores_thresh=scores_thresh, center_thresh=center_thresh)
    order = torch.sort(exact, descending=True, stable=True).indices
    return exact[order], quad[order]
