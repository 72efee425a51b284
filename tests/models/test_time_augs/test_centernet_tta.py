# Copyright (c) mmcenternet contributors. All rights reserved.
"""The feature-level flip / multi-scale TTA model on a small network."""
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO
from mmcv.transforms import Compose
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmcenternet.models.test_time_augs.centernet_tta import merge_flip


def tta_model(flip=True, **kwargs):
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = 4
    tta = dict(cfg.tta_model, module=cfg.model, flip=flip, **kwargs)
    return MODELS.build(tta).eval(), cfg


def views(cfg, scales, tmp_path):
    import cv2
    img = np.random.RandomState(0).randint(0, 255, (70, 90, 3), np.uint8)
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, img)
    pipe = cfg.tta_pipeline.copy()
    pipe[1]['transforms'][0] = [dict(type='CenterNetTestResize', scale=s) for s in scales]
    return pseudo_collate([Compose(pipe)(dict(img_path=path, img_id=1))])


def test_merge_flip_averages_hm_and_wh_but_not_reg():
    a = torch.rand(2, 3, 4, 5)
    out = merge_flip(dict(hm=a, wh=a[:, :2], reg=a[:, :2]), 1)
    assert torch.allclose(out['hm'], (a[:1] + a[1:].flip(-1)) / 2)
    assert torch.equal(out['reg'], a[:1, :2])


def test_single_scale_flip_equals_manual_merge(tmp_path):
    model, cfg = tta_model()
    data = views(cfg, [1.0], tmp_path)
    with torch.no_grad():
        res = model.test_step(data)[0].pred_instances
        det = model.module
        batch = det.data_preprocessor(dict(inputs=data['inputs'][0],
                                           data_samples=data['data_samples'][0]), False)
        x = batch['inputs']
        maps = det.bbox_head.split_stacks(det._forward(torch.cat([x, x.flip(-1)])))[-1]
        maps = merge_flip(dict(maps, hm=maps['hm'].sigmoid()), 1)
        boxes, scores, _ = det.bbox_head.decode_maps(maps['hm'], maps['wh'], maps['reg'])
    assert torch.allclose(res.scores, scores[0])
    # 90x70 -> canvas 96x96 with the image at (3, 13)
    assert torch.allclose(res.bboxes, boxes[0] - torch.tensor([3., 13., 3., 13.]), atol=1e-4)


def test_multi_scale_merge_runs_and_keeps_at_most_ties(tmp_path):
    model, cfg = tta_model()
    data = views(cfg, [0.5, 1.0, 1.5], tmp_path)
    with torch.no_grad():
        res = model.test_step(data)[0].pred_instances
    assert len(res.bboxes) >= 100 or len(res.bboxes) == 3 * 100
    assert torch.all(res.scores >= res.scores.sort(descending=True).values[99])
    corrected, _ = tta_model(soft_nms=dict(mode='corrected'))
    with pytest.raises(ValueError):
        tta_model(soft_nms=dict(mode='wrong'))
    del corrected


def _tools_test_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('mmcn_tools_test', osp.join(REPO, 'tools',
                                                                              'test.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tta_configuration_errors():
    from mmcenternet.utils.errors import UserError
    tool = _tools_test_module()
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.tta_pipeline[1]['transforms'][0] = []
    args = tool.parse_args(['c.py', 'x.pth', '--tta'])
    with pytest.raises(UserError, match='no test scales'):
        tool.apply_tta(cfg, args)
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    args = tool.parse_args(['c.py', 'x.pth', '--tta', '--tta-scales', '0.5', '0'])
    with pytest.raises(UserError, match='not positive'):
        tool.apply_tta(cfg, args)
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    tool.apply_tta(cfg, tool.parse_args(['c.py', 'x.pth', '--flip']))
    views = cfg.test_dataloader.dataset.pipeline[1]['transforms'][0]
    assert [v['scale'] for v in views] == [1.0] and cfg.model.flip
