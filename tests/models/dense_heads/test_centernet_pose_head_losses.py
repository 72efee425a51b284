# Copyright (c) mmcenternet contributors. All rights reserved.
"""multi_pose losses: the golden ``losses.npz`` multi-pose part and the head's loss path."""
import numpy as np
import pytest
import torch
from golden import dense, load_json, load_npz
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from mmcenternet.models.dense_heads import CenterNetPoseHead

TARGET_KEYS = ('hm', 'hm_hp', 'wh', 'reg', 'ind', 'reg_mask', 'hps', 'hps_mask', 'hp_offset',
               'hp_ind', 'hp_mask')
# head loss name -> (golden name, weight of the original default options)
TERMS = dict(loss_heatmap=('hm_loss', 1.0), loss_wh=('wh_loss', 0.1), loss_offset=('off_loss', 1.0),
             loss_hps=('hp_loss', 1.0), loss_hm_hp=('hm_hp_loss', 1.0),
             loss_hp_offset=('hp_offset_loss', 1.0))


def _t(a):
    a = np.asarray(a)
    return torch.from_numpy(a.astype(np.float32) if a.dtype.kind == 'f' else a)


@pytest.mark.golden
def test_golden_multipose_loss():
    z = load_npz('losses.npz')
    weights = load_json('losses.json')['weights']
    assert weights == dict(hm_weight=1, wh_weight=0.1, off_weight=1, hp_weight=1, hm_hp_weight=1)
    targets = {k: _t(dense(z, 'mp_target_' + k)) for k in TARGET_KEYS}
    maps = dict(hm=_t(z['mp_hm_logits']), hm_hp=_t(dense(z, 'mp_hm_hp_logits')),
                hps=_t(dense(z, 'mp_hps')), wh=_t(z['mp_wh']), reg=_t(z['mp_reg']),
                hp_offset=_t(z['mp_hp_offset']))
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = CenterNetPoseHead()
    losses = head.loss_by_targets([maps], targets)
    assert set(losses) == set(TERMS)
    for name, (ref_name, weight) in TERMS.items():
        ref = float(z['multipose_' + ref_name]) * weight
        assert float(losses[name]) == pytest.approx(ref, rel=1e-5), name
    total = sum(losses.values())
    assert float(total) == pytest.approx(float(z['multipose_loss']), rel=1e-5)


def test_stacks_are_averaged():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = CenterNetPoseHead(num_stacks=2, head_conv=8, in_channels=4)
    persons = torch.tensor([[8., 8., 40., 56.]])
    kps = torch.rand(1, 17, 2) * 40 + 8
    t = head.target_generator([persons], [kps], [torch.ones(1, 17)], (16, 16))
    stacks = head.split_stacks(head([torch.randn(1, 4, 16, 16), torch.randn(1, 4, 16, 16)]))
    both = head.loss_by_targets(stacks, t)
    one = [head.loss_by_targets([s], t) for s in stacks]
    for name in both:
        torch.testing.assert_close(both[name], (one[0][name] + one[1][name]) / 2)


def _sample(boxes, kps, vis, rot=0.0):
    s = PoseDataSample(metainfo=dict(centernet_rot=rot))
    s.gt_instances = InstanceData(bboxes=np.asarray(boxes, np.float32),
                                  keypoints=np.asarray(kps, np.float32),
                                  keypoints_visible=np.asarray(vis, np.float32))
    return s


def test_head_loss_from_data_samples_backward():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = CenterNetPoseHead(in_channels=8, head_conv=16)
    rng = np.random.default_rng(0)
    samples = [
        _sample([[4, 4, 60, 60], [10, 20, 30, 50]], rng.uniform(0, 64, (2, 17, 2)),
                rng.integers(0, 2, (2, 17))),
        _sample(np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17))),  # no person
    ]
    feats = (torch.randn(2, 8, 16, 16, requires_grad=True), )
    losses = head.loss(feats, samples)
    assert set(losses) == set(TERMS)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert feats[0].grad is not None and feats[0].grad.abs().sum() > 0
    for p in head.parameters():
        assert p.grad is not None
