# Copyright (c) mmcenternet contributors. All rights reserved.
import numpy as np
import pytest
import torch
from golden import dense, load_npz

from mmcenternet.models.dense_heads import CenterNetDetHead
from mmcenternet.models.losses import (CenterNetFocalLoss, CenterNetRegL1Loss,
                                       centernet_focal_loss, reg_l1_loss)


def test_focal_loss_normalisation_and_empty_target():
    target = torch.zeros(1, 2, 4, 4)
    target[0, 1, 2, 2] = 1
    target[0, 1, 2, 3] = 0.5
    logits = torch.zeros(1, 2, 4, 4)
    loss = CenterNetFocalLoss()(logits, target)
    p = 0.5
    pos = np.log(p) * (1 - p)**2
    neg = np.log(1 - p) * p**2 * (30 + (1 - 0.5)**4)
    assert loss.item() == pytest.approx(-(pos + neg), rel=1e-5)
    empty = CenterNetFocalLoss()(logits, torch.zeros_like(target))
    assert torch.isfinite(empty) and empty.item() == pytest.approx(-32 * np.log(0.5) * 0.25,
                                                                   rel=1e-5)


def test_reg_l1_counts_objects_sharing_a_cell():
    out = torch.zeros(1, 2, 4, 4)
    out[0, :, 1, 1] = torch.tensor([1., 2.])
    ind = torch.tensor([[5, 5, 0]])
    mask = torch.tensor([[1., 1., 0.]])
    target = torch.tensor([[[0., 0.], [1., 2.], [9., 9.]]])
    # both objects at cell 5 are supervised; the unused slot is masked
    assert reg_l1_loss(out, mask, ind, target).item() == pytest.approx(3 / (4 + 1e-4))
    assert CenterNetRegL1Loss(0.1)(out, mask, ind, target).item() == pytest.approx(
        0.3 / (4 + 1e-4))


@pytest.mark.golden
def test_ctdet_losses_golden():
    z = load_npz('losses.npz')
    t = dict(hm=torch.from_numpy(dense(z, 'ct_target_hm')),
             wh=torch.from_numpy(z['ct_target_wh']), reg=torch.from_numpy(z['ct_target_reg']),
             ind=torch.from_numpy(z['ct_target_ind']),
             reg_mask=torch.from_numpy(z['ct_target_reg_mask'].astype(np.float32)))
    stacks = []
    for s in (0, 1):
        stacks.append(dict(hm=torch.from_numpy(dense(z, f'ct_s{s}_hm_logits')),
                           wh=torch.from_numpy(z[f'ct_s{s}_wh'].astype(np.float32)),
                           reg=torch.from_numpy(z[f'ct_s{s}_reg'].astype(np.float32))))
    from mmcenternet.models.losses import clamped_sigmoid
    focal = centernet_focal_loss(clamped_sigmoid(stacks[0]['hm']), t['hm'])
    np.testing.assert_allclose(focal.item(), z['focal_stack0'], rtol=1e-5)
    np.testing.assert_allclose(
        reg_l1_loss(stacks[0]['wh'], t['reg_mask'], t['ind'], t['wh']).item(),
        z['regl1_wh_stack0'], rtol=1e-5)
    np.testing.assert_allclose(
        reg_l1_loss(stacks[0]['reg'], t['reg_mask'], t['ind'], t['reg']).item(),
        z['regl1_reg_stack0'], rtol=1e-5)
    np.testing.assert_allclose(
        centernet_focal_loss(clamped_sigmoid(stacks[0]['hm']), t['hm'] * 0.9).item(),
        z['focal_stack0_target_times_0p9_no_positives'], rtol=1e-5)
    for n in (1, 2):
        head = CenterNetDetHead(num_classes=80, in_channels=8, head_conv=8, num_stacks=n)
        losses = head.loss_from_targets(stacks[:n], t)
        total = sum(losses.values())
        np.testing.assert_allclose(losses['loss_heatmap'].item(),
                                   z[f'ctdet_{n}stack_hm_loss'], rtol=1e-5)
        np.testing.assert_allclose(losses['loss_wh'].item() / 0.1, z[f'ctdet_{n}stack_wh_loss'],
                                   rtol=1e-5)
        np.testing.assert_allclose(losses['loss_offset'].item(), z[f'ctdet_{n}stack_off_loss'],
                                   rtol=1e-5)
        np.testing.assert_allclose(total.item(), z[f'ctdet_{n}stack_loss'], rtol=1e-5)
