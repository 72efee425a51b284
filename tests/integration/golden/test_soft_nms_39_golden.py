# Copyright (c) mmcenternet contributors. All rights reserved.
"""``soft_nms_39`` and the multi_pose scale merge against the golden ``soft_nms.npz`` (sn39)."""
import numpy as np
import pytest
from golden import load_json, load_npz

from mmcenternet.models.utils.soft_nms import merge_multi_pose_outputs, soft_nms_39_inplace

NOT_SCORE = [0, 1, 2, 3] + list(range(5, 39))


@pytest.mark.golden
def test_golden_soft_nms_39_merge():
    z = load_npz('soft_nms.npz')
    meta = load_json('soft_nms.json')['multipose_merge_outputs']
    args = meta['soft_nms_39_args']
    rows = z['sn39_in'].copy()
    keep = soft_nms_39_inplace(rows, sigma=args['sigma'], nt=args['Nt'],
                               threshold=args['threshold'], method=args['method'])
    assert keep == z['sn39_keep'].tolist() and len(keep) == meta['n_keep']
    np.testing.assert_array_equal(rows, z['sn39_out'])  # bit-exact, scores included
    half = meta['n_in'] // 2
    merged = merge_multi_pose_outputs([z['sn39_in'][:half], z['sn39_in'][half:]], run_nms=True)
    np.testing.assert_array_equal(merged, z['sn39_out'])


def _row(box, score, joint_value):
    return np.r_[box, score, np.full(34, joint_value)].astype(np.float32)


def test_discarded_row_takes_the_last_box_but_swaps_joints():
    rows = np.stack([
        _row([0, 0, 10, 10], 0.9, 1),
        _row([0, 0, 10, 10], 0.0015, 2),  # identical box: decayed below 0.001, discarded
        _row([50, 50, 60, 60], 0.7, 3),
    ])
    keep = soft_nms_39_inplace(rows, nt=0.5, method='gaussian')
    assert keep == [0, 1]
    # row 1 received a copy of the last row's box and score, and the joints were swapped
    np.testing.assert_array_equal(rows[1, :5], [50, 50, 60, 60, np.float32(0.7)])
    assert np.all(rows[1, 5:] == 3) and np.all(rows[2, 5:] == 2)
    np.testing.assert_array_equal(rows[2, :5], [50, 50, 60, 60, np.float32(0.7)])  # stale


def test_merge_without_nms_only_concatenates():
    a, b = np.ones((2, 39), np.float32), np.zeros((3, 39), np.float32)
    out = merge_multi_pose_outputs([a, b], run_nms=False)
    assert out.shape == (5, 39) and out.dtype == np.float32
    with pytest.raises(TypeError, match='float32'):
        soft_nms_39_inplace(np.zeros((2, 39)))
