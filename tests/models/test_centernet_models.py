# Copyright (c) mmcenternet contributors. All rights reserved.
"""Model construction, shapes, initialisation, losses and prediction (no reference data)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmcenternet.models.dense_heads import HEATMAP_BIAS, project_to_image

DET_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', 'centernet', '*.py')) + glob.glob(
        osp.join(REPO, 'configs', 'demo', '*.py')) if 'hourglass' not in p)


def small_dla_cfg():
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = 3
    return cfg


@pytest.mark.parametrize('path', DET_CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.bbox_head.num_classes == cfg.model.bbox_head.num_classes
    assert 'tta_model' in cfg and 'tta_pipeline' in cfg


def test_dla34_tensor_mode_shapes_and_order():
    model = MODELS.build(small_dla_cfg().model).eval()
    with torch.no_grad():
        hm, wh, reg = model(torch.randn(2, 3, 64, 96), mode='tensor')
    assert hm.shape == (2, 3, 16, 24) and wh.shape == (2, 2, 16, 24) and reg.shape == wh.shape


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
    assert set(losses) == {'loss_center_heatmap', 'loss_wh', 'loss_offset'}
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


def test_targets_skip_empty_boxes_but_keep_slots():
    gen = TASK_UTILS.build(dict(type='CenterNetTargetGenerator', max_objs=4))
    boxes = torch.tensor([[8., 8., 8., 40.], [8., 8., 40., 40.], [-50., -50., -10., -10.],
                          [0., 0., 12., 12.], [20., 20., 30., 30.]])
    t = gen([boxes], [torch.tensor([0, 1, 0, 1, 1])], 2, (16, 16), stride=4)
    assert t['reg_mask'][0].tolist() == [0, 1, 0, 1]  # zero width, outside, and slot 5 > max
    assert t['ind'][0, 1] == 6 * 16 + 6
    assert t['hm'][0, 1].max() == 1 and t['hm'][0, 0].max() == 0


def test_projection_with_homography_and_with_plain_resize():
    boxes = torch.tensor([[20., 10., 60., 30.]])
    # keep_res canvas: image pasted at (16, 11)
    meta = dict(homography_matrix=np.array([[1, 0, 16], [0, 1, 11], [0, 0, 1.]]))
    assert project_to_image(boxes, meta).tolist() == [[4., -1., 44., 19.]]
    # mmdet's Resize with default meta keys: only scale_factor is packed
    assert project_to_image(boxes, dict(scale_factor=(2.0, 0.5))).tolist() == \
        [[10., 20., 30., 60.]]


def test_predict_with_a_plain_resize_pipeline(tmp_path):
    """Decoding needs no CenterNet-specific meta key: mmdet's Resize pipeline works too."""
    import cv2
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    img = np.random.RandomState(0).randint(0, 255, (50, 70, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(140, 100), keep_ratio=True),
        dict(type='PackDetInputs')
    ])
    data = pseudo_collate([pipeline(dict(img_path=str(tmp_path / 'a.png'), img_id=0))])
    model = MODELS.build(small_dla_cfg().model).eval()
    with torch.no_grad():
        raw = model.test_step(data)[0]
        batch = model.data_preprocessor(data, False)
        maps = model.bbox_head.split_stacks(model._forward(batch['inputs']))[-1]
        boxes, _, _ = model.bbox_head.decode_maps(maps['hm'].sigmoid(), maps['wh'], maps['reg'])
    # input is the image scaled by 2: predictions come back divided by 2
    assert torch.allclose(raw.pred_instances.bboxes, boxes[0] / 2, atol=1e-4)
    assert raw.pred_instances.bboxes.shape == (100, 4)
