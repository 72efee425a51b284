# Copyright (c) mmcenternet contributors. All rights reserved.
"""ctdet decoding and back-projection against the original (golden section 5)."""
import numpy as np
import pytest
import torch
from golden import dense, load_npz

from mmcenternet.datasets.transforms import get_affine_transform
from mmcenternet.models.utils.geometry import project_to_image
from mmcenternet.models.task_modules import CenterNetBBoxCoder
from mmcenternet.models.test_time_augs.centernet_tta import merge_flip


def _homography(c, s, out_hw, scale=1.0):
    """Image -> output-map matrix of the original's affine, composed with a test scale."""
    m = get_affine_transform(np.asarray(c, np.float32), s, 0, [int(out_hw[1]), int(out_hw[0])])
    return np.vstack([m, [0, 0, 1]]) @ np.diag([scale, scale, 1.0])


def _rows(bboxes, scores, labels, meta):
    """Original post-processing layout: per class ascending, decode order inside a class."""
    boxes = project_to_image(bboxes, meta).numpy()
    out = []
    lab = labels.numpy()
    for c in np.unique(lab):
        sel = lab == c
        out.append(np.concatenate([np.full((sel.sum(), 1), c + 1), boxes[sel],
                                   scores.numpy()[sel, None]], 1))
    return np.concatenate(out)


def test_decode_synthetic_peak():
    hm = torch.zeros(1, 3, 8, 8)
    hm[0, 2, 3, 4] = 0.9
    hm[0, 2, 3, 5] = 0.8  # suppressed by the 3x3 peak test
    wh = torch.zeros(1, 2, 8, 8)
    wh[0, :, 3, 4] = torch.tensor([2., 4.])
    reg = torch.zeros(1, 2, 8, 8)
    reg[0, :, 3, 4] = torch.tensor([0.25, 0.5])
    coder = CenterNetBBoxCoder(topk=2)
    b, s, l = coder.decode(hm, wh, reg, stride=4)
    assert s[0].tolist() == pytest.approx([0.9, 0.0])
    assert l[0, 0] == 2
    assert b[0, 0].tolist() == pytest.approx([4 * 3.25, 4 * 1.5, 4 * 5.25, 4 * 5.5])


@pytest.mark.golden
def test_ctdet_decode_case_a():
    z = load_npz('decode_ctdet.npz')
    hm = torch.from_numpy(dense(z, 'A_hm'))
    wh = torch.from_numpy(z['A_wh'].astype(np.float32))
    reg = torch.from_numpy(z['A_reg'].astype(np.float32))
    coder = CenterNetBBoxCoder(topk=100)
    for offset, key in ((reg, 'A_dets'), (None, 'A_dets_noreg')):
        b, s, l = coder.decode(hm, wh, offset)
        ref = z[key]
        np.testing.assert_array_equal(l.numpy(), ref[..., 5].astype(np.int64))
        np.testing.assert_allclose(b.numpy(), ref[..., :4], atol=1e-5)
        np.testing.assert_allclose(s.numpy(), ref[..., 4], atol=1e-5)
    b, s, l = coder.decode(hm, wh, reg)
    for key, s_key in (('A_post', 'A_post_s'), ('A_post2', 'A_post2_s')):
        rows = []
        for i in range(b.shape[0]):
            c = z[f'{key}_c'][i]
            sc = z[s_key][i]
            out_hw = z[f'{key}_out_hw'][i] if z[f'{key}_out_hw'].ndim == 2 else z[f'{key}_out_hw']
            meta = dict(homography_matrix=_homography(c, sc, out_hw))
            r = _rows(b[i], s[i], l[i], meta)
            rows.append(np.concatenate([np.full((len(r), 1), i), r], 1))
        rows = np.concatenate(rows)
        ref = z[key]
        np.testing.assert_array_equal(rows[:, :2], ref[:, :2])
        np.testing.assert_allclose(rows[:, 2:6], ref[:, 2:6], atol=1e-3)
        np.testing.assert_allclose(rows[:, 6], ref[:, 6], atol=1e-5)


@pytest.mark.golden
def test_ctdet_decode_case_b_flip():
    z = load_npz('decode_ctdet.npz')
    logits = torch.from_numpy(dense(z, 'B_hm_logits'))
    hm = logits.sigmoid()
    np.testing.assert_allclose(hm.numpy(), dense(z, 'B_hm_sigmoid'), atol=1e-7)
    maps = merge_flip(dict(hm=hm, wh=torch.from_numpy(z['B_wh'].astype(np.float32)),
                           reg=torch.from_numpy(z['B_reg'].astype(np.float32))), 1)
    np.testing.assert_allclose(maps['hm'].numpy(), dense(z, 'B_merged_hm'), atol=1e-7)
    np.testing.assert_allclose(maps['wh'].numpy(), z['B_merged_wh'], atol=1e-7)
    b, s, l = CenterNetBBoxCoder(topk=100).decode(maps['hm'], maps['wh'], maps['reg'])
    ref = z['B_dets']
    np.testing.assert_array_equal(l.numpy(), ref[..., 5].astype(np.int64))
    np.testing.assert_allclose(b.numpy(), ref[..., :4], atol=1e-5)
    np.testing.assert_allclose(s.numpy(), ref[..., 4], atol=1e-5)
    meta = dict(homography_matrix=_homography(z['B_post_c'], float(z['B_post_s']),
                                              z['B_post_out_hw'], float(z['B_post_scale'])))
    rows = _rows(b[0], s[0], l[0], meta)
    np.testing.assert_array_equal(rows[:, 0], z['B_post'][:, 1])
    np.testing.assert_allclose(rows[:, 1:5], z['B_post'][:, 2:6], atol=1e-3)
    np.testing.assert_allclose(rows[:, 5], z['B_post'][:, 6], atol=1e-5)
