# Copyright (c) mmcenternet contributors. All rights reserved.
"""The flip merge shared by every head: each rule, and the ctdet / pose rules as the original."""
import pytest
import torch

from mmcenternet.models.dense_heads import CenterNetDetHead, CenterNetPoseHead
from mmcenternet.models.utils.flip import merge_flip_maps, split_flip_batch


def _maps(seed, channels):
    g = torch.Generator().manual_seed(seed)
    return {n: torch.rand(2, c, 3, 5, generator=g) for n, c in channels.items()}


def test_each_rule():
    a, b = _maps(0, dict(x=4)), _maps(1, dict(x=4))
    pairs = [(0, 1)]
    assert torch.equal(merge_flip_maps(a, b, dict(x='first'))['x'], a['x'])
    assert torch.equal(merge_flip_maps(a, b, dict(x='mean'))['x'], (a['x'] + b['x'].flip(-1)) / 2)
    swapped = b['x'].flip(-1)[:, [1, 0, 2, 3]]
    assert torch.equal(merge_flip_maps(a, b, dict(x='mean_swap'), pairs)['x'],
                       (a['x'] + swapped) / 2)
    # (x, y) pairs of channels: x negated, pairs of joints swapped
    off = b['x'].flip(-1).reshape(2, 2, 2, 3, 5)[:, [1, 0]].clone()
    off[:, :, 0] = -off[:, :, 0]
    assert torch.equal(merge_flip_maps(a, b, dict(x='mean_offsets'), pairs)['x'],
                       (a['x'] + off.reshape(2, 4, 3, 5)) / 2)


def test_a_branch_without_rule_is_an_error():
    a = _maps(0, dict(hm=1, extra=2))
    with pytest.raises(ValueError, match="branch 'extra' has no rule"):
        merge_flip_maps(a, a, CenterNetDetHead.FLIP_RULES)


def test_ctdet_rules_are_the_original_flip_test():
    """hm and wh averaged with the mirrored half flipped back, reg from the first half."""
    maps = _maps(2, dict(hm=3, wh=2, reg=2))
    merged = merge_flip_maps(*split_flip_batch(maps, 1), CenterNetDetHead.FLIP_RULES)
    for name in ('hm', 'wh'):
        assert torch.equal(merged[name], (maps[name][:1] + maps[name][1:].flip(-1)) / 2)
    assert torch.equal(merged['reg'], maps['reg'][:1])


def test_pose_rules_cover_every_branch():
    assert set(CenterNetPoseHead.FLIP_RULES) == {'hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset'}
    assert CenterNetPoseHead.FLIP_RULES['hps'] == 'mean_offsets'
    assert CenterNetPoseHead.FLIP_RULES['hm_hp'] == 'mean_swap'
