# Copyright (c) mmcenternet contributors. All rights reserved.
"""The ctdet training transforms, the random affine moving boxes with the image and the colour
recipe."""
import random

import numpy as np
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets.transforms import (EIG_VAL, EIG_VEC, CenterNetColorAug,
                                             CenterNetRandomAffine, color_augment_)


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


def test_color_aug_generators_differ_per_worker_and_rank(monkeypatch):
    """Each data-loader worker and rank has its own jitter sequence, repeatable by seed."""
    import types

    import mmengine.dist
    import torch.utils.data
    img = np.random.RandomState(0).randint(0, 255, (8, 9, 3)).astype(np.uint8)

    def draws(worker_id, worker_seed, rank=0):
        monkeypatch.setattr(torch.utils.data, 'get_worker_info',
                            lambda: None if worker_id is None else types.SimpleNamespace(
                                id=worker_id, seed=worker_seed))
        monkeypatch.setattr(mmengine.dist, 'get_rank', lambda: rank)
        aug = CenterNetColorAug(seed=123)
        random.seed(0)
        return aug(dict(img=img.copy()))['img']

    main = draws(None, None)
    random.seed(0)
    np.testing.assert_array_equal(main, CenterNetColorAug(seed=123)(dict(img=img.copy()))['img'])
    w0, w1 = draws(0, 1000), draws(1, 1001)
    assert not np.allclose(w0, w1) and not np.allclose(w0, main)
    np.testing.assert_array_equal(w0, draws(0, 1000))  # the same worker seed: the same draws
    assert not np.allclose(draws(0, 1000, rank=1), w0)
    assert not np.allclose(draws(None, None, rank=1), main)
