# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exdet losses against the original's ``ExdetLoss`` (golden section 12.4), and the
two-stack (hourglass) averaging."""
import numpy as np
import pytest
import torch
from golden import dense, load_json, load_npz

from mmcenternet.models import CenterNetExdetHead
from mmcenternet.models.losses import CenterNetFocalLoss, CenterNetRegL1Loss

PARTS = ('t', 'l', 'b', 'r')


def _golden():
    z = load_npz('losses_exdet.npz')
    targets = {f'hm_{p}': torch.from_numpy(dense(z, f'target_hm_{p}')) for p in PARTS + ('c', )}
    for p in PARTS:
        targets[f'reg_{p}'] = torch.from_numpy(z[f'target_reg_{p}'])
        targets[f'ind_{p}'] = torch.from_numpy(z[f'target_ind_{p}'])
    targets['reg_mask'] = torch.from_numpy(z['target_reg_mask'])
    maps = {f'hm_{p}': torch.from_numpy(dense(z, f'hm_{p}_logits')) for p in PARTS + ('c', )}
    for p in PARTS:
        maps[f'reg_{p}'] = torch.from_numpy(dense(z, f'reg_{p}').astype(np.float32))
    return z, targets, maps


def _head(num_stacks=1):
    return CenterNetExdetHead(num_classes=80, in_channels=8, head_conv=8, num_stacks=num_stacks)


@pytest.mark.golden
def test_exdet_loss_matches_original():
    z, targets, maps = _golden()
    meta = load_json('losses_exdet.json')
    assert meta['weights'] == dict(hm_weight=1, off_weight=1)
    focal, l1 = CenterNetFocalLoss(), CenterNetRegL1Loss()
    for p in PARTS + ('c', ):
        np.testing.assert_allclose(float(focal(maps[f'hm_{p}'], targets[f'hm_{p}'])),
                                   float(z[f'focal_{p}']), rtol=1e-5, err_msg=p)
    for p in PARTS:
        np.testing.assert_allclose(
            float(l1(maps[f'reg_{p}'], targets['reg_mask'], targets[f'ind_{p}'],
                     targets[f'reg_{p}'])), float(z[f'regl1_{p}']), rtol=1e-5, err_msg=p)
    losses = _head().loss_from_targets([maps], targets)
    np.testing.assert_allclose(float(losses['loss_heatmap']), float(z['exdet_hm_loss']),
                               rtol=1e-5)
    np.testing.assert_allclose(float(losses['loss_offset']), float(z['exdet_off_loss']),
                               rtol=1e-5)
    np.testing.assert_allclose(float(sum(losses.values())), float(z['exdet_loss']), rtol=1e-5)


@pytest.mark.golden
def test_two_stacks_average_each_term():
    """Hourglass: every term is divided by the number of stacks and summed over the stacks."""
    z, targets, maps = _golden()
    other = {k: v * 0.5 for k, v in maps.items()}
    one_a = _head().loss_from_targets([maps], targets)
    one_b = _head().loss_from_targets([other], targets)
    two = _head(num_stacks=2).loss_from_targets([maps, other], targets)
    for key in ('loss_heatmap', 'loss_offset'):
        np.testing.assert_allclose(float(two[key]), (float(one_a[key]) + float(one_b[key])) / 2,
                                   rtol=1e-6)
