# Copyright (c) mmcenternet contributors. All rights reserved.
import random

import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets.transforms import (EIG_VAL, EIG_VEC, CenterNetColorAug, CenterNetPad,
                                             CenterNetRandomAffine, CenterNetTestResize,
                                             color_augment_, get_border)


def test_keep_res_canvas_and_geometry():
    img = np.full((425, 640, 3), 7, np.uint8)
    out = CenterNetPad(31)(dict(img=img.copy(), gt_bboxes=HorizontalBoxes(
        np.array([[0., 0., 10., 10.]], np.float32))))
    assert out['img'].shape == (448, 672, 3)
    # the image sits at (16, 12) = (672 // 2 - 640 // 2, 448 // 2 - 425 // 2)
    canvas = out['img'][..., 0]
    assert canvas[12, 16] == 7 and canvas[11, 16] == 0 and canvas[12, 15] == 0
    assert canvas[12 + 424, 16 + 639] == 7 and canvas[12 + 425, 16 + 639] == 0
    np.testing.assert_allclose(out['homography_matrix'], [[1, 0, 16], [0, 1, 12], [0, 0, 1]])
    assert out['gt_bboxes'].tensor.tolist() == [[16., 12., 26., 22.]]
    # an exact multiple of 32 still grows by a block; hourglass uses 128
    assert CenterNetPad(31)(dict(img=np.zeros((512, 64, 3), np.uint8)))['img'].shape[:2] == \
        (544, 96)
    assert CenterNetPad(127)(dict(img=np.zeros((300, 129, 3), np.uint8)))['img'].shape[:2] == \
        (384, 256)
    with pytest.raises(ValueError):
        CenterNetPad(30)


def test_test_resize_truncates_and_records_nominal_scale():
    res = CenterNetTestResize(0.75)(dict(img=np.zeros((425, 639, 3), np.uint8)))
    assert res['img'].shape[:2] == (318, 479)  # int(425 * .75), int(639 * .75)
    np.testing.assert_allclose(res['homography_matrix'], np.diag([0.75, 0.75, 1]))
    with pytest.raises(ValueError, match='smaller than the network stride'):
        CenterNetTestResize(0.05)(dict(img=np.zeros((425, 639, 3), np.uint8), img_path='x.jpg'))
    with pytest.raises(ValueError):
        CenterNetTestResize(0)


def test_border_rule():
    assert [get_border(128, s) for s in (640, 257, 256, 129, 128, 65)] == [128, 128, 64, 64, 32,
                                                                            32]


def test_random_affine_boxes_follow_the_image():
    rng = np.random.RandomState(1)
    img = np.zeros((200, 300, 3), np.uint8)
    img[50:100, 60:160] = 255  # a white box
    aug = CenterNetRandomAffine(input_size=(128, 128), border=32)
    np.random.seed(5)
    for _ in range(20):
        res = aug(dict(img=img.copy(), gt_bboxes=HorizontalBoxes(
            np.array([[60., 50., 160., 100.]], np.float32))))
        x1, y1, x2, y2 = res['gt_bboxes'].tensor[0].tolist()
        assert res['img'].shape == (128, 128, 3)
        if x2 - x1 > 8 and y2 - y1 > 8:  # visible and not clipped to a sliver
            inner = res['img'][int(y1) + 3:int(y2) - 3, int(x1) + 3:int(x2) - 3]
            if inner.size:
                assert inner.mean() > 200
        # boxes are clipped to the output map (in input pixels: [0, 4 * 31])
        assert 0 <= x1 <= 124 and 0 <= x2 <= 124
    del rng


def test_color_aug_matches_the_recipe():
    img = np.random.RandomState(0).randint(0, 255, (8, 9, 3)).astype(np.uint8)
    aug = CenterNetColorAug(seed=123)
    random.seed(7)
    out = aug(dict(img=img.copy()))['img']
    # the same computation written out step by step
    random.seed(7)
    ops = ['brightness', 'contrast', 'saturation']
    random.shuffle(ops)
    rng = np.random.RandomState(123)
    x = img.astype(np.float32) / 255.
    gray = (0.114 * x[..., 0] + 0.587 * x[..., 1] + 0.299 * x[..., 2]).astype(np.float32)
    mean = gray.mean()
    for op in ops:
        a = 1. + rng.uniform(-0.4, 0.4)
        if op == 'brightness':
            x = x * a
        elif op == 'contrast':
            x = x * a + mean * (1 - a)
        else:
            x = x * a + gray[..., None] * (1 - a)
    x = x + EIG_VEC @ (EIG_VAL * rng.normal(scale=0.1, size=3))
    np.testing.assert_allclose(out, x * 255, atol=1e-3)
    assert out.dtype == np.float32
    assert color_augment_ is not None
