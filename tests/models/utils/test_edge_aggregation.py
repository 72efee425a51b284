# Copyright (c) mmcenternet contributors. All rights reserved.
"""ExtremeNet's edge aggregation (``aggr_weight``) against the original's loops, written out as
its ``models/decode.py`` has them (row-major scan of a reshaped copy)."""
import pytest
import torch

from mmcenternet.models.task_modules import CenterNetExdetDecoder
from mmcenternet.models.utils.edge_aggregation import h_aggregate, v_aggregate


def _scan(heat, forward):
    shape = heat.shape
    flat = heat.reshape(-1, shape[3]).transpose(1, 0).contiguous()
    ret = flat.clone()
    steps = range(1, flat.shape[0]) if forward else range(flat.shape[0] - 2, -1, -1)
    for i in steps:
        j = i - 1 if forward else i + 1
        ret[i] += ret[j] * (flat[i] >= flat[j]).float()
    return (ret - flat).transpose(1, 0).reshape(shape)


def _reference_h(heat, w):
    return w * _scan(heat, True) + w * _scan(heat, False) + heat


def _reference_v(heat, w):
    t = heat.transpose(3, 2)
    return (w * _scan(t, True) + w * _scan(t, False)).transpose(3, 2) + heat


def test_aggregation_equals_the_original_loops():
    heat = torch.rand(2, 3, 7, 9, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(h_aggregate(heat, 0.1), _reference_h(heat, 0.1), rtol=0, atol=0)
    torch.testing.assert_close(v_aggregate(heat, 0.3), _reference_v(heat, 0.3), rtol=0, atol=0)


def test_decoder_applies_it_only_when_asked():
    g = torch.Generator().manual_seed(1)
    heat = {p: torch.rand(1, 2, 12, 16, generator=g) for p in 'tlbrc'}
    dec = CenterNetExdetDecoder(topk=8, num_dets=50)
    plain = dec.decode(heat)
    assert torch.equal(dec.decode(heat, aggr_weight=0.0), plain)
    assert not torch.equal(dec.decode(heat, aggr_weight=0.1), plain)


def test_export_decoder_refuses_edge_aggregation():
    from mmcenternet.models.dense_heads import CenterNetExdetHead
    head = CenterNetExdetHead(num_classes=2, in_channels=4, head_conv=4,
                              test_cfg=dict(aggr_weight=0.1))
    with pytest.raises(ValueError, match='aggr_weight=0.1: the exported exdet decoder has no '
                       'edge aggregation'):
        head.export_decoder()
