# Copyright (c) mmcenternet contributors. All rights reserved.
"""The detector: raw maps in the original order, prediction through a plain resize pipeline."""

import numpy as np
import torch
from mmdet.registry import MODELS
from dla_common import small_dla_cfg  # noqa: F401


def test_dla34_tensor_mode_shapes_and_order():
    model = MODELS.build(small_dla_cfg().model).eval()
    with torch.no_grad():
        hm, wh, reg = model(torch.randn(2, 3, 64, 96), mode='tensor')
    assert hm.shape == (2, 3, 16, 24) and wh.shape == (2, 2, 16, 24) and reg.shape == wh.shape


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
