# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's in-place soft-NMS and multi-scale merge (golden section 8)."""
import numpy as np
import pytest
from golden import load_json, load_npz

from mmcenternet.models.utils.soft_nms import merge_detections, soft_nms_inplace


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


def test_decay_uses_the_originals_double_pixel_offset():
    """The ``+ 1`` of the pixel convention is a double in the compiled original: side lengths,
    areas and the union are evaluated in double and rounded to float when stored. For this pair
    plain float32 arithmetic gives a different Gaussian factor."""
    from mmcenternet.models.utils.soft_nms import soft_nms_decay
    f32 = np.float32
    # float32 values written exactly
    box = np.array([86.30000305175781, 54.099998474121094, 116.30000305175781, 96.39999389648438],
                   f32)
    row = np.array([81.60000610351562, 50.29999923706055, 118.0, 97.89999389648438], f32)
    factor, overlap = soft_nms_decay(box, row[None], f32(0.5), f32(0.5), 2)
    assert overlap.tolist() == [True] and factor.dtype == np.float32

    def side(hi, lo):  # float difference + double 1.0
        return float(f32(hi - lo)) + 1.0

    iw = f32(side(min(box[2], row[2]), max(box[0], row[0])))
    ih = f32(side(min(box[3], row[3]), max(box[1], row[1])))
    area = f32(side(row[2], row[0]) * side(row[3], row[1]))
    inter = iw * ih
    union = f32(side(box[2], box[0]) * side(box[3], box[1]) + float(area) - float(inter))
    ov = inter / union
    assert factor[0] == f32(np.exp(float(-(ov * ov) / f32(0.5))))
    # the same formula in float32 throughout
    one = f32(1)
    iw32 = min(box[2], row[2]) - max(box[0], row[0]) + one
    ih32 = min(box[3], row[3]) - max(box[1], row[1]) + one
    area32 = (row[2] - row[0] + one) * (row[3] - row[1] + one)
    union32 = (box[2] - box[0] + one) * (box[3] - box[1] + one) + area32 - iw32 * ih32
    ov32 = iw32 * ih32 / union32
    plain = f32(np.exp(float(-(ov32 * ov32) / f32(0.5))))
    assert plain != factor[0]


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
    # bit-exact, scores included (the compiled original's mixed float / double arithmetic)
    np.testing.assert_array_equal(rows, ref)


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
    np.testing.assert_array_equal(flat, ref)
    out = merge_detections(per_scale, num_classes, run_nms=True,
                           max_per_img=meta['max_per_image'])
    flat = np.concatenate([np.concatenate([np.full((len(b), 1), c + 1), b], 1)
                           for c, b in enumerate(out) if len(b)])
    ref = z['merge_out']
    assert len(flat) == len(ref) == meta['n_out']
    np.testing.assert_array_equal(flat, ref)
