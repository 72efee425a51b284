# Copyright (c) mmcenternet contributors. All rights reserved.
"""The multi_pose head's options (the original's --not_reg_offset, --not_hm_hp,
--not_reg_hp_offset, --dense_hp, --hm_hp_weight, --not_reg_bbox): branches, training from
ground truth, decoding as the original's ``multi_pose_decode`` decodes without those maps. The
decoder variants are checked against the original in tests/integration/golden/
test_options_golden.py."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmcenternet.models.dense_heads import CenterNetPoseHead
from mmcenternet.models.task_modules import CenterNetPoseTargetGenerator
from mmcenternet.models.task_modules.coders.pose_decode import multi_pose_decode
from mmcenternet.models.utils.gaussian_target import (draw_dense_reg_, draw_umich_gaussian_np,
                                                      radius_from_box_size)

NJ = 5


class _Sample:

    def __init__(self, gt):
        self.gt_instances = gt
        self.metainfo = {}


def _gt():
    kps = torch.tensor([[[10., 10.], [20., 12.], [30., 30.], [12., 40.], [200., 5.]],
                        [[40., 20.], [50., 22.], [45., 40.], [60., 50.], [41., 41.]]])
    return InstanceData(bboxes=torch.tensor([[4., 4., 40., 44.], [36., 16., 62., 56.]]),
                        keypoints=kps, keypoints_visible=torch.ones(2, NJ))


def _head(**kw):
    torch.manual_seed(0)
    return CenterNetPoseHead(in_channels=8, num_keypoints=NJ, head_conv=8,
                             flip_indices=list(range(NJ)), **kw)


@pytest.mark.parametrize('options,branches', [
    (dict(), ['hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset']),
    (dict(reg_offset=False), ['hm', 'wh', 'hps', 'hm_hp', 'hp_offset']),
    (dict(hm_hp=False), ['hm', 'wh', 'hps', 'reg']),
    (dict(reg_hp_offset=False), ['hm', 'wh', 'hps', 'reg', 'hm_hp']),
    (dict(dense_hp=True), ['hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset']),
], ids=['default', 'not_reg_offset', 'not_hm_hp', 'not_reg_hp_offset', 'dense_hp'])
def test_options_set_branches_train_and_decode(options, branches):
    head = _head(**options)
    assert list(head.head_module.heads) == branches
    outs = head([torch.randn(1, 8, 16, 16)])
    losses = head.loss([torch.randn(1, 8, 16, 16)], [_Sample(_gt())])
    expected = {'loss_heatmap', 'loss_wh', 'loss_hps'} | {
        f'loss_{n}' for n, b in (('offset', 'reg'), ('hm_hp', 'hm_hp'),
                                 ('hp_offset', 'hp_offset')) if b in branches}
    assert set(losses) == expected
    sum(losses.values()).backward()
    with torch.no_grad():
        dets = head.decode_outputs(outs)
        maps = {n: m for n, m in head.head_module.split(outs)[-1].items()}
        ref = multi_pose_decode(maps['hm'].sigmoid(), maps['wh'], maps['hps'], maps.get('reg'),
                                maps['hm_hp'].sigmoid() if 'hm_hp' in maps else None,
                                maps.get('hp_offset'), k=100)
    torch.testing.assert_close(dets['keypoints'], ref['keypoints'] * 4)


def test_dense_joint_targets_as_the_original_draws_them():
    gt = _gt()
    t = CenterNetPoseTargetGenerator(NJ)([gt.bboxes], [gt.keypoints], [gt.keypoints_visible],
                                         (16, 16), stride=4, dense_hp=True)
    dense = np.zeros((NJ, 2, 16, 16), np.float32)
    mask = np.zeros((NJ, 16, 16), np.float32)
    hm = np.zeros((16, 16), np.float32)
    for box, kps in zip(gt.bboxes / 4, gt.keypoints / 4):
        ct = ((box[:2] + box[2:]) / 2).numpy().astype(np.int32)
        r = int(radius_from_box_size(box[3:4] - box[1:2], box[2:3] - box[0:1])[0])
        for j, pt in enumerate(kps.numpy()):
            if 0 <= pt[0] < 16 and 0 <= pt[1] < 16:  # joint 4 of person 0 lies outside
                draw_dense_reg_(dense[j], hm, ct, pt - ct, r, is_offset=True)
                draw_umich_gaussian_np(mask[j], ct, r)
        draw_umich_gaussian_np(hm, ct, r)  # after the person's joints, as the original
    np.testing.assert_array_equal(t['dense_hps'][0].numpy(), dense.reshape(2 * NJ, 16, 16))
    np.testing.assert_array_equal(t['dense_hps_mask'][0].numpy(),
                                  np.repeat(mask[:, None], 2, 1).reshape(2 * NJ, 16, 16))
    assert (t['dense_hps'][0, 8:10] != 0).any()  # joint 4 exists for person 1


def test_joint_heatmap_weight_and_reg_bbox():
    head = _head(loss_hm_hp=dict(type='CenterNetFocalLoss', loss_weight=0.5))
    assert head.loss_hm_hp.loss_weight == 0.5
    with pytest.warns(UserWarning, match='changes nothing for multi_pose'):
        head = _head(reg_bbox=False)
    assert 'wh' in head.head_module.heads
