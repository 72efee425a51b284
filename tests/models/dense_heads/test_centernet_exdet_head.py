# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exdet head: branches, training step, single-view prediction, its test-time
augmentation hooks and the faithful / corrected post-processing (no reference data)."""
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmcenternet.models import CenterNetExdetHead

HEADS = ('hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r')


def _cfg(name):
    return Config.fromfile(osp.join(REPO, 'configs', 'centernet_exdet', name))


@pytest.mark.parametrize('agnostic', [False, True])
def test_head_branches_and_initialisation(agnostic):
    cfg = _cfg('hourglass104_coco.py')
    cfg.model.bbox_head.agnostic_ex = agnostic
    head = MODELS.build(cfg.model.bbox_head)
    n = 1 if agnostic else 80
    assert head.head_module.heads == dict(hm_t=n, hm_l=n, hm_b=n, hm_r=n, hm_c=80, reg_t=2,
                                          reg_l=2, reg_b=2, reg_r=2)
    assert head.num_stacks == 2
    for name in HEADS[:5]:
        for s in range(2):
            assert torch.all(getattr(head.head_module, name)[s][-1].bias == -2.19)


def _tiny_detector(mode='faithful'):
    cfg = _cfg('dla34_coco.py')
    cfg.model.backbone = dict(type='ResNet', depth=18, base_channels=8, out_indices=(3, ),
                              norm_eval=False, init_cfg=None)
    cfg.model.neck = dict(type='CTResNetNeck', in_channels=64, num_deconv_filters=(16, 16, 16),
                          num_deconv_kernels=(4, 4, 4), use_dcn=False)
    cfg.model.bbox_head.update(num_classes=3, in_channels=16, head_conv=16)
    cfg.model.bbox_head.decoder.update(topk=20, num_dets=200)
    cfg.model.test_cfg.update(topk=20, num_dets=200, mode=mode)
    model = MODELS.build(cfg.model).eval()
    torch.manual_seed(0)
    for p in model.bbox_head.parameters():  # make some quadruples valid
        torch.nn.init.normal_(p, std=0.3)
    return model


def _sample(h=64, w=96):
    s = DetDataSample()
    s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
                        homography_matrix=np.eye(3)))
    return s


def _planted_logits(head, h=16, w=24, box=(4, 3, 15, 12), cls=1, mirrored=False):
    """Raw head outputs with one clear object (output pixels) on a -6 background; ``mirrored``
    gives what a network would output for the mirrored image."""
    maps = {n: torch.full((1, c, h, w), -6.0 if n.startswith('hm') else 0.0)
            for n, c in head.head_module.heads.items()}
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    for name, (x, y) in dict(hm_t=(cx, y1), hm_l=(x1, cy), hm_b=(cx, y2), hm_r=(x2, cy),
                             hm_c=(cx, cy)).items():
        maps[name][0, cls, y, x] = 3.0
    if mirrored:
        maps = {n: v.flip(-1) for n, v in maps.items()}
        maps['hm_l'], maps['hm_r'] = maps['hm_r'], maps['hm_l']
    return maps


def test_training_step_and_single_view_prediction():
    model = _tiny_detector()
    model.train()
    x = torch.randn(2, 3, 64, 96)
    samples = [_sample(), _sample()]
    samples[0].gt_instances = InstanceData(
        bboxes=torch.tensor([[10., 8., 50., 40.]]), labels=torch.tensor([2]),
        extreme_points=torch.tensor([[[30., 8.], [10., 20.], [34., 40.], [50., 22.]]]))
    samples[1].gt_instances = InstanceData(bboxes=torch.zeros(0, 4),
                                           labels=torch.zeros(0, dtype=torch.int64),
                                           extreme_points=torch.zeros(0, 4, 2))
    losses = model.loss(x, samples)
    assert set(losses) == {'loss_heatmap', 'loss_offset'}
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        res = model.predict(x, [_sample(), _sample()])
    assert len(res) == 2
    # planted maps: the object comes back as the best detection, in input pixels x 4
    head = model.bbox_head
    maps = _planted_logits(head)
    out = head.predict_by_feat(tuple(maps[n] for n in head.head_module.heads), [_sample()])[0]
    assert out.labels[0] == 1 and (out.scores > 0).all() and len(out.scores) <= 100
    np.testing.assert_allclose(out.bboxes[0].numpy(), np.array([4, 3, 15, 12]) * 4)


def test_tta_model_uses_the_exdet_hooks(monkeypatch):
    """Flip + two scales through CenterNetTTAModel: each view decoded image by image, mirrored
    back, merged with soft-NMS; one view without flip equals the plain prediction."""
    from mmcenternet.models.test_time_augs import CenterNetTTAModel
    model = _tiny_detector()
    head = model.bbox_head
    x = torch.rand(1, 3, 64, 96) * 255
    pre = model.data_preprocessor(dict(inputs=[x[0]], data_samples=[_sample()]), False)['inputs']

    def fake_forward(feats):  # planted maps, mirrored for the mirrored input
        rows = []
        for item in model._last_inputs:
            rows.append(_planted_logits(head, mirrored=not torch.equal(item, pre[0])))
        return tuple(torch.cat([r[n] for r in rows]) for n in head.head_module.heads)

    def fake_extract(inputs):
        model._last_inputs = inputs
        return [inputs]

    monkeypatch.setattr(model, 'extract_feat', fake_extract)
    monkeypatch.setattr(head, 'forward', fake_forward)
    for flip in (False, True):
        tta = CenterNetTTAModel(module=model, flip=flip)
        views = dict(inputs=[[x[0]], [x[0]]], data_samples=[[_sample()], [_sample()]])
        with torch.no_grad():
            out = tta.test_step(views)[0].pred_instances
            one = tta.test_step(dict(inputs=[[x[0]]], data_samples=[[_sample()]]))[0]
            single = model.predict(pre, [_sample()])[0]
        assert 0 < len(out.scores) <= 100 and (out.scores > 0).all()
        assert out.labels[0] == 1
        best = out.bboxes[0].numpy()
        assert np.abs(best - np.array([16, 12, 60, 48])).max() <= 4  # within one output pixel
        if not flip:
            np.testing.assert_array_equal(one.pred_instances.scores.numpy(),
                                          single.pred_instances.scores.numpy())
            np.testing.assert_array_equal(one.pred_instances.bboxes.numpy(),
                                          single.pred_instances.bboxes.numpy())


def test_faithful_mirrors_the_second_half_and_corrected_does_not():
    head = CenterNetExdetHead(num_classes=2, in_channels=4, head_conv=4)
    dets = torch.zeros(4, 14)
    dets[:, :4] = torch.tensor([1., 2., 3., 4.])
    dets[:, 4] = torch.tensor([0.9, 0.8, 0.7, 0.6])
    rows = head.post_process(dets, None, 10, None)
    np.testing.assert_allclose(rows[:2, :4], [[4, 8, 12, 16]] * 2)  # x4: input pixels
    np.testing.assert_allclose(rows[2:, :4], [[(10 - 3) * 4, 8, (10 - 1) * 4, 16]] * 2)
    head.test_cfg['mode'] = 'corrected'
    rows = head.post_process(dets, None, 10, None)
    np.testing.assert_allclose(rows[:, :4], [[4, 8, 12, 16]] * 4)
    with pytest.raises(ValueError, match='mode'):
        CenterNetExdetHead(num_classes=2, in_channels=4, test_cfg=dict(mode='other'))
