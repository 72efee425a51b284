# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's in-place soft-NMS and multi-scale merge (golden section 8)."""
import numpy as np
import pytest
from golden import load_json, load_npz

from mmcenternet.tta import merge_detections, soft_nms_inplace


def test_spec_example_keeps_stale_rows():
    rows = np.array([[0, 0, 10, 10, .9], [1, 1, 11, 11, .8], [0, 0, 10, 10, .002],
                     [50, 50, 60, 60, .7], [0, 0, 10, 10, .0015]], np.float32)
    keep = soft_nms_inplace(rows, sigma=0.5, nt=0.5, threshold=0.001, method=2)
    assert keep == [0, 1, 2]
    expected = np.array([[0, 0, 10, 10, .9], [50, 50, 60, 60, .7], [1, 1, 11, 11, .2967],
                         [50, 50, 60, 60, .7], [0, 0, 10, 10, .0015]], np.float32)
    np.testing.assert_allclose(rows, expected, atol=1e-4)


def test_corrected_mode_drops_discarded_rows():
    per_scale = [[np.array([[0, 0, 10, 10, .9], [0, 0, 10, 10, .0012]], np.float32)],
                 [np.array([[0, 0, 10, 10, .8]], np.float32)]]
    faithful = merge_detections(per_scale, 1, run_nms=True, mode='faithful')[0]
    corrected = merge_detections(per_scale, 1, run_nms=True, mode='corrected')[0]
    assert len(faithful) == 3 and len(corrected) == 2
    with pytest.raises(ValueError):
        merge_detections(per_scale, 1, run_nms=True, mode='other')


def test_top_k_cut_keeps_ties():
    per_scale = [[np.array([[0, 0, 1, 1, s] for s in (.5, .4, .4, .1)], np.float32)]]
    out = merge_detections(per_scale, 1, run_nms=False, max_per_img=2)[0]
    assert out[:, 4].tolist() == pytest.approx([.5, .4, .4])


@pytest.mark.golden
@pytest.mark.parametrize('tag,nt,method', [('sn', 0.5, 2), ('sn_m1', 0.3, 1), ('sn_m0', 0.3, 0)])
def test_soft_nms_golden(tag, nt, method):
    z = load_npz('soft_nms.npz')
    rows = z['sn_in'].copy()
    keep = soft_nms_inplace(rows, sigma=0.5, nt=nt, threshold=0.001, method=method)
    ref = z[f'{tag}_out']
    assert keep == z[f'{tag}_keep'].tolist()
    np.testing.assert_array_equal(rows[:, :4], ref[:, :4])
    # Scores: float32 products of several Gaussian decays; rows decayed once are bit-exact,
    # rows decayed several times differ from the compiled original by at most ~1 ulp per step.
    np.testing.assert_allclose(rows[:, 4], ref[:, 4], rtol=2e-6)


@pytest.mark.golden
def test_ctdet_merge_outputs_golden():
    z = load_npz('soft_nms.npz')
    meta = load_json('soft_nms.json')['ctdet_merge_outputs']
    rows = z['merge_in']
    num_classes = meta['num_classes']
    per_scale = []
    for k in range(len(meta['scales'])):
        r = rows[rows[:, 0] == k]
        per_scale.append([r[r[:, 1] == c + 1][:, 2:7] for c in range(num_classes)])
    before = merge_detections(per_scale, num_classes, run_nms=True, max_per_img=10**9)
    flat = np.concatenate([np.concatenate([np.full((len(b), 1), c + 1), b], 1)
                           for c, b in enumerate(before) if len(b)])
    ref = z['merge_after_softnms_before_cut']
    np.testing.assert_array_equal(flat[:, :5], ref[:, :5])
    np.testing.assert_allclose(flat[:, 5], ref[:, 5], rtol=1e-6)
    out = merge_detections(per_scale, num_classes, run_nms=True,
                           max_per_img=meta['max_per_image'])
    flat = np.concatenate([np.concatenate([np.full((len(b), 1), c + 1), b], 1)
                           for c, b in enumerate(out) if len(b)])
    ref = z['merge_out']
    assert len(flat) == len(ref) == meta['n_out']
    np.testing.assert_array_equal(flat[:, :5], ref[:, :5])
    np.testing.assert_allclose(flat[:, 5], ref[:, 5], rtol=1e-6)
