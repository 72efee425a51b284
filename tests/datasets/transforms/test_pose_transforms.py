# Copyright (c) mmcenternet contributors. All rights reserved.
"""The multi_pose training transform and the colour jitter (the golden replay of the random
draws and the bit-exact input are in test_pose_targets.py)."""
import random

import cv2
import numpy as np
import pytest

from mmcenternet.datasets.transforms.affine import affine_transform, get_affine_transform
from mmcenternet.datasets.transforms import EIG_VAL as PCA_EIGVAL
from mmcenternet.datasets.transforms import EIG_VEC as PCA_EIGVEC
from mmcenternet.datasets.transforms import CenterNetColorAug as CenterNetColorJitter
from mmcenternet.datasets.transforms import color_augment_
from mmcenternet.datasets.transforms import COCO_FLIP_INDICES, CenterNetPoseRandomAffine


def _results(h=100, w=160, n=2, seed=0):
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, min(h, w), (n, 17, 2)).astype(np.float32)
    vis = rng.integers(0, 2, (n, 17)).astype(np.float32)
    boxes = np.array([[10, 12, 90, 95], [100, 5, 150, 60]][:n], np.float32)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return dict(img=img, bbox=boxes, keypoints=kps, keypoints_visible=vis,
                flip_indices=list(COCO_FLIP_INDICES))


def test_draw_order_consumes_the_rotation_draw(monkeypatch):
    calls = []
    monkeypatch.setattr(np.random, 'choice', lambda a: calls.append('choice') or a[4])
    monkeypatch.setattr(np.random, 'randint',
                        lambda low, high: calls.append('randint') or (low + high) // 2)
    draws = iter([0.3, 0.2])
    monkeypatch.setattr(np.random, 'random', lambda: calls.append('random') or next(draws))
    c, s, rot, flip = CenterNetPoseRandomAffine().sample_params(100, 160)
    assert calls == ['choice', 'randint', 'randint', 'random', 'random']
    assert rot == 0 and flip  # 0.3 < rot_prob 0 is False; 0.2 < 0.5 flips
    assert s == 160 * np.arange(0.6, 1.4, 0.1)[4]
    # borders: 64 for width 160 (randint(64, 96)), 32 for height 100 (randint(32, 68))
    assert c[0] == 160 - (64 + 96) // 2 - 1 and c[1] == (32 + 68) // 2


def test_rotation_branch(monkeypatch):
    monkeypatch.setattr(np.random, 'random', lambda: 0.0)
    monkeypatch.setattr(np.random, 'randn', lambda: 3.0)
    t = CenterNetPoseRandomAffine(random_crop=False, rot_prob=0.5, rotate=10)
    c, s, rot, flip = t.sample_params(100, 160)
    assert rot == 20.0 and flip  # clip(3 * 10, -20, 20)
    out = t.apply(_results(), c, s, rot, flip)
    assert out['centernet_rot'] == 20.0


@pytest.mark.parametrize('flip', [False, True])
def test_persons_follow_the_output_transform_exactly(flip):
    res = _results()
    width = res['img'].shape[1]
    src = {k: np.array(v) for k, v in res.items() if k != 'img'}
    c, s = np.array([70., 45.], np.float32), 130.0
    out = CenterNetPoseRandomAffine().apply(res, c, s, 0.0, flip)
    assert out['img'].shape == (512, 512, 3) and out['flip'] is flip
    trans_out = get_affine_transform(c, s, 0, [128, 128])
    kps, vis, boxes = src['keypoints'].copy(), src['keypoints_visible'].copy(), src['bbox'].copy()
    if flip:
        kps[..., 0] = width - kps[..., 0] - 1
        kps, vis = kps[:, list(COCO_FLIP_INDICES)], vis[:, list(COCO_FLIP_INDICES)]
        boxes[:, [0, 2]] = width - boxes[:, [2, 0]] - 1
    expected = affine_transform(kps, trans_out).astype(np.float32)
    np.testing.assert_array_equal(out['keypoints'] / 4, expected)  # bit-exact after / 4
    np.testing.assert_array_equal(out['keypoints_visible'], vis)
    box_out = np.concatenate([affine_transform(boxes[:, :2], trans_out),
                              affine_transform(boxes[:, 2:], trans_out)], 1).astype(np.float32)
    np.testing.assert_array_equal(out['bbox'] / 4, box_out)
    # the recorded image -> input homography agrees (to float rounding) with the points
    pts = src['keypoints'].reshape(-1, 2)
    mapped = np.c_[pts, np.ones(len(pts))] @ np.asarray(out['homography_matrix']).T
    ref = out['keypoints'].reshape(-1, 2) if not flip else \
        out['keypoints'][:, list(COCO_FLIP_INDICES)].reshape(-1, 2)
    np.testing.assert_allclose(mapped[:, :2], ref, atol=1e-3)


def test_left_and_right_joints_swap_when_flipped():
    res = _results(n=1)
    res['keypoints'][0, 5] = (10, 20)  # left shoulder
    res['keypoints'][0, 6] = (30, 20)  # right shoulder
    out = CenterNetPoseRandomAffine().apply(res, np.array([80., 50.], np.float32), 160.0, 0.0,
                                            True)
    # after mirroring, the old right shoulder (x = 30 -> 129) is now the left one, which lies to
    # the left of the new right shoulder (x = 10 -> 149)
    assert out['keypoints'][0, 5, 0] < out['keypoints'][0, 6, 0]


def test_bad_inputs_are_reported():
    t = CenterNetPoseRandomAffine()
    res = _results()
    res['keypoints'] = res['keypoints'].reshape(2, 34)
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        t.apply(res, np.array([80., 50.], np.float32), 160.0, 0.0, False)
    res = _results()
    res['flip_indices'] = list(range(5))
    with pytest.raises(ValueError, match='flip_indices has 5 entries for 17 keypoints'):
        t.apply(res, np.array([80., 50.], np.float32), 160.0, 0.0, True)
    with pytest.raises(ValueError, match='multiple of down_ratio'):
        CenterNetPoseRandomAffine(input_size=(510, 512))


def _reference_jitter(img, seed, order_seed):
    """The colour augmentation written out step by step."""
    rng, order = np.random.RandomState(seed), random.Random(order_seed)
    ops = ['brightness', 'contrast', 'saturation']
    order.shuffle(ops)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    mean = grey.mean()
    out = img.copy()
    for op in ops:
        a = 1. + rng.uniform(low=-0.4, high=0.4)
        if op == 'brightness':
            out = out * a
        elif op == 'contrast':
            out = out * a + mean * (1 - a)
        else:
            out = out * a + grey[:, :, None] * (1 - a)
    return out + np.dot(PCA_EIGVEC, PCA_EIGVAL * rng.normal(scale=0.1, size=3))


def test_colour_jitter_matches_the_reference():
    img = np.random.default_rng(3).random((20, 30, 3)).astype(np.float32)
    got = color_augment_(img.copy(), np.random.RandomState(123), py_rng=random.Random(7))
    np.testing.assert_allclose(got, _reference_jitter(img, 123, 7), rtol=1e-5, atol=1e-5)


def test_colour_jitter_transform_keeps_its_generator():
    img = np.random.default_rng(4).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    t = CenterNetColorJitter(seed=123)
    random.seed(1)
    a = t(dict(img=img))['img']
    b = t(dict(img=img))['img']
    assert a.dtype == np.float32 and not np.allclose(a, b)  # the generator advances
    random.seed(1)
    fresh = CenterNetColorJitter(seed=123)(dict(img=img))['img']
    np.testing.assert_array_equal(a, fresh)
    with pytest.raises(ValueError, match='float32'):
        color_augment_(img, np.random.RandomState(0))
