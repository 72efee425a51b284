# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet decoding, post-processing and merge against the original (golden section 12.3):
``exct_decode`` (case A), ``ExdetDetector.process`` + ``post_process`` + ``merge_outputs``
without flip (case B, with the half-mirroring quirk) and with flip at scale 0.75 (case C)."""
import numpy as np
import pytest
import torch
from golden import dense, load_json, load_npz

from mmcenternet.models import CenterNetExdetHead
from mmcenternet.models.task_modules import CenterNetExdetDecoder

PARTS = ('t', 'l', 'b', 'r')


def _check_dets(ours: np.ndarray, ref: np.ndarray, name: str) -> None:
    """Order and class exact, coordinates within 1e-4, scores within 1e-6."""
    assert ours.shape == ref.shape, name
    np.testing.assert_array_equal(ours[..., 13], ref[..., 13], err_msg=name)
    np.testing.assert_allclose(ours[..., 4], ref[..., 4], atol=1e-6, rtol=0, err_msg=name)
    cols = list(range(4)) + list(range(5, 13))
    np.testing.assert_allclose(ours[..., cols], ref[..., cols], atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.golden
def test_exct_decode_defaults_case_a():
    z = load_npz('decode_exdet.npz')
    meta = load_json('decode_exdet.json')
    d = meta['A_defaults']
    dec = CenterNetExdetDecoder(topk=d['K'], num_dets=d['num_dets'],
                                scores_thresh=d['scores_thresh'], center_thresh=d['center_thresh'])
    heat = {p: torch.from_numpy(dense(z, f'A_hm_{p}')) for p in PARTS + ('c', )}
    offs = {p: torch.from_numpy(z[f'A_reg_{p}'].astype(np.float32)) for p in PARTS}
    dets = dec.decode(heat, offs).numpy()
    _check_dets(dets, z['A_dets'], 'A')
    _check_dets(dec.decode(heat, None).numpy(), z['A_dets_noreg'], 'A_noreg')
    for i, n_pos in enumerate(meta['A_num_positive_per_image']):
        assert int((dets[i, :, 4] > 0).sum()) == n_pos


def _detector_case(case: str):
    z = load_npz('decode_exdet.npz')
    num_classes = int(load_json('decode_exdet.json').get('num_classes', 80))
    head = CenterNetExdetHead(num_classes=num_classes, in_channels=8, head_conv=8,
                              test_cfg=dict(topk=100, num_dets=1000, max_per_img=100))
    logits = {f'hm_{p}': torch.from_numpy(dense(z, f'{case}_hm_{p}_logits'))
              for p in PARTS + ('c', )}
    for p in PARTS + ('c', ):
        np.testing.assert_array_equal(logits[f'hm_{p}'].sigmoid().numpy(),
                                      dense(z, f'{case}_hm_{p}_sigmoid'))
    maps = dict(logits, **{f'reg_{p}': torch.from_numpy(z[f'{case}_reg_{p}'].astype(np.float32))
                           for p in PARTS})
    dets = head.decode_maps(maps)
    _check_dets(dets.numpy(), z[f'{case}_dets'], case)
    # keep_res geometry of the original's meta: image (scaled by `scale`) centred on the canvas
    c, s, scale = z[f'{case}_meta_c'], z[f'{case}_meta_s'], float(z[f'{case}_scale'])
    shift = np.array([[1, 0, s[0] / 2 - c[0]], [0, 1, s[1] / 2 - c[1]], [0, 0, 1]])
    meta = dict(homography_matrix=shift @ np.diag([scale, scale, 1.0]))
    out_w = int(z[f'{case}_meta_out_hw'][1])
    return z, head, dets, meta, out_w


def _check_merged(res, ref: np.ndarray, name: str) -> None:
    ours = np.concatenate([res.labels.numpy()[:, None] + 1, res.bboxes.numpy(),
                           res.scores.numpy()[:, None]], 1)
    assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
    np.testing.assert_array_equal(ours[:, 0], ref[:, 0], err_msg=name)
    np.testing.assert_allclose(ours[:, 1:5], ref[:, 1:5], atol=1e-3, rtol=0, err_msg=name)
    np.testing.assert_allclose(ours[:, 5], ref[:, 5], atol=1e-5, rtol=0, err_msg=name)


@pytest.mark.golden
def test_single_image_post_process_and_merge_case_b():
    """No flip: ranks 501-1000 are mirrored as if they came from a flipped image (faithful)."""
    z, head, dets, meta, out_w = _detector_case('B')
    rows = head.post_process(dets[0], None, out_w, meta)
    ref = z['B_post']
    np.testing.assert_allclose(rows[:, :4], ref[:, :4], atol=1e-3, rtol=0)
    np.testing.assert_allclose(rows[:, 4], ref[:, 4], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(rows[:, 5], ref[:, 13])
    _check_merged(head.merge_rows([rows]), z['B_merged'], 'B')


@pytest.mark.golden
def test_flip_post_process_and_merge_case_c():
    """Flip batch at scale 0.75: image 1 decoded separately, mirrored with ``W_out - x``."""
    z, head, dets, meta, out_w = _detector_case('C')
    rows = head.post_process(dets[0], dets[1], out_w, meta)
    ref = z['C_post']
    np.testing.assert_allclose(rows[:, :4], ref[:, :4], atol=1e-3, rtol=0)
    np.testing.assert_allclose(rows[:, 4], ref[:, 4], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(rows[:, 5], ref[:, 13])
    _check_merged(head.merge_rows([rows]), z['C_merged'], 'C')


@pytest.mark.golden
def test_corrected_mode_differs_only_by_the_quirks():
    z, head, dets, meta, out_w = _detector_case('B')
    head.test_cfg['mode'] = 'corrected'
    rows = head.post_process(dets[0], None, out_w, meta)
    # all 1000 rows kept unmirrored, in decode order
    ref = z['B_post']
    np.testing.assert_allclose(rows[:500, :4], ref[:500, :4], atol=1e-3, rtol=0)
    assert np.abs(rows[500:704, :4] - ref[500:704, :4]).max() > 1
    res = head.merge_rows([rows])
    assert 0 < len(res.scores) < len(z['B_merged'])  # discarded rows are gone
    # no stale duplicates: every merged row is distinct
    merged = np.concatenate([res.bboxes.numpy(), res.scores.numpy()[:, None]], 1)
    assert len(np.unique(merged, axis=0)) == len(merged)
