# Copyright (c) mmcenternet contributors. All rights reserved.
"""ExtremeNet's edge aggregation (the original's ``aggr_weight`` of ``exct_decode``): before the
peak test, each extreme heat map gains ``aggr_weight`` times the scores that rise monotonically
towards each cell along the edge it lies on (top / bottom points: the row; left / right
points: the column). Off by default (``aggr_weight=0``), as in the model zoo's numbers."""
from torch import Tensor

__all__ = ['h_aggregate', 'v_aggregate']


def _aggregate_along_last(heat: Tensor, reverse: bool) -> Tensor:
    """``ret[i] = heat[i] + ret[i - 1] * (heat[i] >= heat[i - 1])`` along the last axis (from
    the far end with ``reverse``), minus ``heat``: the original's ``_left_aggregate``."""
    width = heat.shape[-1]
    order = range(width - 2, -1, -1) if reverse else range(1, width)
    step = 1 if reverse else -1
    ret = heat.clone()
    for i in order:
        grows = (heat[..., i] >= heat[..., i + step]).to(heat.dtype)
        ret[..., i] = ret[..., i] + ret[..., i + step] * grows
    return ret - heat


def h_aggregate(heat: Tensor, aggr_weight: float = 0.1) -> Tensor:
    """The original's ``_h_aggregate`` of (B, C, H, W) scores: along each row, both ways."""
    return aggr_weight * _aggregate_along_last(heat, False) + \
        aggr_weight * _aggregate_along_last(heat, True) + heat


def v_aggregate(heat: Tensor, aggr_weight: float = 0.1) -> Tensor:
    """The original's ``_v_aggregate`` of (B, C, H, W) scores: along each column, both ways."""
    t = heat.transpose(-1, -2)
    return (aggr_weight * _aggregate_along_last(t, False) +
            aggr_weight * _aggregate_along_last(t, True)).transpose(-1, -2) + heat
