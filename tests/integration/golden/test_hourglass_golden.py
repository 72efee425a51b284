# Copyright (c) mmcenternet contributors. All rights reserved.
"""Hourglass-104 ctdet against the original (golden): both stacks after conversion, the last
stack tested and both trained, the two-stack loss."""
import os.path as osp
import tempfile

import numpy as np
import pytest
import torch
from golden import dense, load_npz, write_original_checkpoint
from mmdet.registry import MODELS
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData

from mmcenternet.utils.checkpoint_io import torch_load
from mmcenternet.utils.convert_official import convert_checkpoint
from hourglass_common import cfg, CONFIG, HEADS, hg_model  # noqa: F401


@pytest.fixture(scope='module')
def golden_model(hg_model):
    """``hg_model`` loaded from the golden original-layout checkpoint via the converter file path.

    Returns ``(model, npz, convert info, converted state dict)``.
    """
    z = load_npz('nets', 'hourglass_ctdet.npz')
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'orig.pth'), osp.join(tmp, 'conv.pth')
        write_original_checkpoint('hourglass_ctdet', src, seed=int(z['weight_seed']))
        info = convert_checkpoint(src, dst)
        # strict: every model weight comes from the converted file and nothing is left over
        load_checkpoint(hg_model, dst, map_location='cpu', strict=True)
        converted = torch_load(dst, map_location='cpu', allow_pickle=False)
    return hg_model, z, info, converted


@pytest.mark.golden
def test_converted_hourglass_matches_original_both_stacks(golden_model):
    model, z, info, converted = golden_model
    assert (info['arch'], info['depth'], info['task'], info['num_stacks']) == ('hourglass', 104,
                                                                               'ctdet', 2)
    assert converted['meta']['arch'] == 'hourglass' and converted['meta']['epoch'] == 140
    with torch.no_grad():
        outs = model(torch.from_numpy(z['input']), mode='tensor')
    # the original's order: stack 0 heads, then stack 1 heads
    names = [f'out{s}_{h}' for s in (0, 1) for h in HEADS]
    assert len(outs) == len(names)
    for name, out in zip(names, outs):
        assert tuple(out.shape) == z[name].shape, name
        np.testing.assert_allclose(out.numpy(), z[name], atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.golden
def test_hourglass_head_tests_on_last_stack_and_trains_on_both(cfg):
    z = load_npz('nets', 'hourglass_ctdet.npz')
    head = MODELS.build(cfg.model.bbox_head)
    outs = tuple(torch.from_numpy(z[f'out{s}_{h}']) for s in (0, 1) for h in HEADS)
    meta = dict(img_shape=(128, 128), ori_shape=(128, 128), scale_factor=(1.0, 1.0))
    res = head.predict_by_feat(outs, [meta], rescale=False)[0]
    # testing decodes the last stack only
    ref_b, ref_s, ref_l = head.decode_maps(*(outs[3].sigmoid(), ) + outs[4:])
    np.testing.assert_array_equal(res.scores.numpy(), ref_s[0].numpy())
    np.testing.assert_array_equal(res.labels.numpy(), ref_l[0].numpy())
    np.testing.assert_array_equal(res.bboxes.numpy(), ref_b[0].numpy())
    # training: every term is the mean of the two stacks' terms
    gt = [
        InstanceData(bboxes=torch.tensor([[10., 20., 70., 100.], [30., 30., 50., 41.]]),
                     labels=torch.tensor([3, 7]))
    ]
    losses = head.loss_by_feat(outs, gt)
    per_stack = [head.loss_by_feat(outs[s * 3:s * 3 + 3] * 2, gt) for s in (0, 1)]
    for key in ('loss_heatmap', 'loss_wh', 'loss_offset'):
        assert per_stack[0][key] != per_stack[1][key]
        expected = (per_stack[0][key] + per_stack[1][key]) / 2
        np.testing.assert_allclose(losses[key].item(), expected.item(), rtol=1e-6)


class _StoredTargets(torch.nn.Module):
    """Stands in for the target generator: returns the golden targets."""

    def __init__(self, targets):
        super().__init__()
        self.targets = targets

    def forward(self, bboxes, labels, num_classes, feat_shape, stride=4, **options):
        assert tuple(feat_shape) == tuple(self.targets['hm'].shape[-2:])
        return self.targets


@pytest.mark.golden
def test_two_stack_ctdet_loss_golden(cfg):
    """golden README section 7: CtdetLoss with num_stacks 2 (``--arch hourglass``)."""
    z = load_npz('losses.npz')
    t = dict(hm=torch.from_numpy(dense(z, 'ct_target_hm')),
             wh=torch.from_numpy(z['ct_target_wh']),
             reg=torch.from_numpy(z['ct_target_reg']),
             ind=torch.from_numpy(z['ct_target_ind']),
             reg_mask=torch.from_numpy(z['ct_target_reg_mask'].astype(np.float32)))
    outs = []
    for s in (0, 1):
        outs += [
            torch.from_numpy(dense(z, f'ct_s{s}_hm_logits')),
            torch.from_numpy(z[f'ct_s{s}_wh'].astype(np.float32)),
            torch.from_numpy(z[f'ct_s{s}_reg'].astype(np.float32))
        ]
    head = MODELS.build(cfg.model.bbox_head)  # the hourglass head: num_stacks 2
    assert head.num_stacks == 2
    head.target_generator = _StoredTargets(t)
    gt = [
        InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
        for _ in range(2)
    ]
    losses = head.loss_by_feat(tuple(outs), gt)
    np.testing.assert_allclose(losses['loss_heatmap'].item(),
                               z['ctdet_2stack_hm_loss'],
                               rtol=1e-5)
    np.testing.assert_allclose(losses['loss_wh'].item() / 0.1, z['ctdet_2stack_wh_loss'], rtol=1e-5)
    np.testing.assert_allclose(losses['loss_offset'].item(), z['ctdet_2stack_off_loss'], rtol=1e-5)
    np.testing.assert_allclose(sum(losses.values()).item(), z['ctdet_2stack_loss'], rtol=1e-5)
