# Copyright (c) mmcenternet contributors. All rights reserved.
"""The ctdet head: initialisation, losses and backward, fp32 losses and decoding under
autocast, empty images (no reference data)."""

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmcenternet.models.dense_heads import HEATMAP_BIAS
from dla_common import small_dla_cfg  # noqa: F401


def test_head_initialisation_matches_original():
    dla = MODELS.build(small_dla_cfg().model).bbox_head.head_module
    assert torch.all(dla.hm[0][2].bias == HEATMAP_BIAS)
    assert torch.all(dla.wh[0][0].bias == 0) and torch.all(dla.wh[0][2].bias == 0)
    assert dla.wh[0][0].weight.std() > 0.01  # default (kaiming-uniform) weights kept
    res = MODELS.build(dict(type='CenterNetDetHead', num_classes=2, in_channels=8, head_conv=8,
                            branch_init='normal')).head_module
    assert res.reg[0][0].weight.std() < 0.002 and torch.all(res.reg[0][2].bias == 0)


def test_loss_and_backward_on_a_tiny_batch():
    model = MODELS.build(small_dla_cfg().model)
    model.train()
    samples = []
    for boxes in ([[4., 4., 30., 40.], [40., 8., 60., 20.]], []):
        s = DetDataSample(metainfo=dict(img_shape=(64, 64), batch_input_shape=(64, 64)))
        s.gt_instances = InstanceData(bboxes=torch.tensor(boxes).reshape(-1, 4),
                                      labels=torch.tensor([0, 2][:len(boxes)]))
        samples.append(s)
    losses = model(torch.randn(2, 3, 64, 64), samples, mode='loss')
    assert set(losses) == {'loss_heatmap', 'loss_wh', 'loss_offset'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.base_layer[0].weight.grad is not None


def test_losses_and_decoding_stay_fp32_under_autocast():
    """Mixed precision (``--amp``): the network runs in low precision, the heat-map sigmoid,
    losses and decoding in fp32. Checked with CPU autocast (bfloat16), the same code path as
    CUDA fp16 autocast."""
    torch.manual_seed(0)
    model = MODELS.build(small_dla_cfg().model)
    model.train()
    s = DetDataSample(metainfo=dict(img_shape=(64, 64), batch_input_shape=(64, 64)))
    s.gt_instances = InstanceData(bboxes=torch.tensor([[4., 4., 30., 40.]]),
                                  labels=torch.tensor([1]))
    x = torch.randn(1, 3, 64, 64)
    full = model(x, [s], mode='loss')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model(x, mode='tensor')
        assert outs[0].dtype == torch.bfloat16  # the network did run in low precision
        mixed = model(x, [s], mode='loss')
    # the same low-precision maps, losses computed outside autocast in fp32
    reference = model.bbox_head.loss_by_feat([o.detach().float() for o in outs],
                                             [s.gt_instances])
    for name, value in mixed.items():
        assert value.dtype == torch.float32, name
        assert torch.isfinite(value)
        assert value.item() == pytest.approx(reference[name].item(), rel=1e-5), name
        # and near the fp32 network's loss (bfloat16 keeps ~3 digits through the network; CPUs
        # with AMX accumulate differently, measured up to 11 % apart here)
        assert value.item() == pytest.approx(full[name].item(), rel=0.3), name
    sum(mixed.values()).backward()
    model.eval()
    s.set_metainfo(dict(ori_shape=(64, 64), scale_factor=(1.0, 1.0), border=[0, 64, 0, 64]))
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        pred = model.predict(x, [s])[0].pred_instances
    assert pred.bboxes.dtype == torch.float32 and pred.scores.dtype == torch.float32


def test_empty_image_loss_is_finite():
    model = MODELS.build(small_dla_cfg().model)
    s = DetDataSample(metainfo=dict(img_shape=(64, 64)))
    s.gt_instances = InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long())
    losses = model(torch.randn(1, 3, 64, 64), [s], mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
