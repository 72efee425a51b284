# Copyright (c) mmcenternet contributors. All rights reserved.
"""One soft-NMS loop for boxes and persons: the payload columns, the settings' one home.
(Equivalence with the compiled original: tests/integration/golden/test_soft_nms*_golden.py.)"""
import numpy as np
import pytest

from mmcenternet.models.utils.soft_nms import (SOFT_NMS_DEFAULTS, merge_multi_pose_outputs,
                                               soft_nms_39_inplace, soft_nms_inplace,
                                               soft_nms_settings)


def _rows(joints: int, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    xy = rng.uniform(0, 20, (12, 2))
    wh = rng.uniform(5, 15, (12, 2))
    rows = np.concatenate([xy, xy + wh, rng.uniform(0.05, 1, (12, 1)),
                           rng.uniform(0, 40, (12, 2 * joints))], 1)
    return np.ascontiguousarray(rows, dtype=np.float32)


def test_without_payload_the_extra_columns_stay_in_place():
    rows = _rows(3)
    before = rows.copy()
    soft_nms_inplace(rows, 0.5, 0.5, 0.3, 'gaussian')
    np.testing.assert_array_equal(rows[:, 5:], before[:, 5:])  # ctdet's soft_nms moves 0-4 only


def test_payload_travels_with_boxes_until_discarded():
    rows = _rows(5)
    boxes = rows[:, :5].copy()
    soft_nms_inplace(boxes, 0.5, 0.5, 0.3, 'gaussian')
    with_joints = rows.copy()
    keep = soft_nms_inplace(with_joints, 0.5, 0.5, 0.3, 'gaussian', payload=10)
    # the box columns follow the same steps whatever the payload
    np.testing.assert_array_equal(with_joints[:, :5], boxes)
    # the active rows keep their own joints (a row's joints identify its original box)
    box_of = {tuple(r[5:]): tuple(r[:4]) for r in rows}
    assert all(box_of[tuple(r[5:])] == tuple(r[:4]) for r in with_joints[:len(keep)])
    assert len(keep) < len(rows)  # some rows were discarded: the swap rule was exercised
    assert soft_nms_39_inplace(rows.copy(), 0.5, 0.5, 0.3, 'gaussian') == keep


def test_any_number_of_joints_merges():
    views = [_rows(5, 1), _rows(5, 2)]
    out = merge_multi_pose_outputs(views, run_nms=True)
    assert out.shape == (24, 15)


def test_settings_have_one_home_and_are_checked():
    assert soft_nms_settings() == SOFT_NMS_DEFAULTS
    assert soft_nms_settings(dict(sigma=0.3))['sigma'] == 0.3
    with pytest.raises(ValueError, match='unknown setting'):
        soft_nms_settings(dict(sgima=0.3))
    with pytest.raises(ValueError, match="'faithful' or 'corrected'"):
        soft_nms_settings(dict(mode='fast'))
    with pytest.raises(ValueError, match="'gaussian', 'linear' or 'hard'"):
        soft_nms_settings(dict(method='soft'))
