# Copyright (c) mmcenternet contributors. All rights reserved.
"""The training affine moves extreme points like the original and keeps ctdet behaviour."""

import numpy as np
import pytest

from mmcenternet.datasets.transforms import CenterNetRandomAffine


def test_affine_transforms_points_like_the_original_and_keeps_ctdet_behaviour():
    img = np.random.RandomState(0).randint(0, 255, (50, 80, 3)).astype(np.uint8)
    pts = np.array([[[30, 5], [10, 20], [32, 40], [60, 18]]], np.float32)
    c = np.array([40., 25.])
    aug = CenterNetRandomAffine(input_size=(64, 64), mirror_center=False, shift_style='exdet')
    out = aug.apply(dict(img=img.copy(), gt_bboxes=None, gt_extreme_points=pts.copy()), c, 80.0,
                    True)
    # mirrored x' = W - x - 1, left and right swapped, mapped with scale 16 / 80 to the output
    # map, clipped to [0, 15], stored x 4
    mirrored = np.array([[80 - 30 - 1, 5], [80 - 60 - 1, 18], [80 - 32 - 1, 40],
                         [80 - 10 - 1, 20]], np.float64)
    expected = np.clip((mirrored - [40, 25]) * 0.2 + 8, 0, 15) * 4
    np.testing.assert_allclose(out['gt_extreme_points'][0], expected, atol=1e-4)
    # flip does not move the crop centre (exdet); ctdet's default still mirrors it
    with np.testing.assert_raises(AssertionError):
        np.testing.assert_array_equal(CenterNetRandomAffine().sample_params, None)
    np.random.seed(1)
    ex = CenterNetRandomAffine(flip_prob=1.0, mirror_center=False, shift_style='exdet')
    ct = CenterNetRandomAffine(flip_prob=1.0)
    state = np.random.get_state()
    c_ex, s_ex, f_ex = ex.sample_params(50, 80)
    np.random.set_state(state)
    c_ct, s_ct, f_ct = ct.sample_params(50, 80)
    assert f_ex and f_ct and s_ex == s_ct
    assert c_ct[0] == 80 - c_ex[0] - 1 and c_ct[1] == c_ex[1]
    assert c_ex.dtype == np.float64 and c_ct.dtype == np.float32
    # exdet shift mode: scale first, shifts proportional to W and H
    draws = iter([0.5, 1.0, -3.0, 0.9])
    ex = CenterNetRandomAffine(random_crop=False, mirror_center=False, shift_style='exdet')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(np.random, 'randn', lambda: next(draws))
        mp.setattr(np.random, 'random', lambda: next(draws))
        c2, s2, f2 = ex.sample_params(50, 80)
    assert s2 == pytest.approx(80 * 1.2) and not f2
    np.testing.assert_allclose(c2, [40 + 80 * 0.1, 25 - 50 * 0.2])
