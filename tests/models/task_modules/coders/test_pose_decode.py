# Copyright (c) mmcenternet contributors. All rights reserved.
"""multi_pose decoding: golden ``decode_multipose`` (cases A and B) and the snapping rules."""
import numpy as np
import pytest
import torch
from golden import dense, load_json, load_npz

from mmcenternet.datasets.transforms.affine import get_affine_transform
from mmcenternet.models.dense_heads import CenterNetPoseHead
from mmcenternet.models.task_modules.coders.pose_decode import merge_flip_outputs, multi_pose_decode
from mmcenternet.models.utils.geometry import map_points_to_image


def _t(a):
    return torch.from_numpy(np.asarray(a).astype(np.float32))


def _rows(dets):
    """Decoder output as the original's (B, K, 40) ``[box, score, 34 joints, label]`` rows."""
    return torch.cat([dets['bboxes'], dets['scores'][..., None], dets['keypoints'].flatten(2),
                      dets['labels'][..., None].float()], dim=-1).numpy()


def _homography(c, s, out_hw, scale=1.0, stride=4):
    """Image -> network input matrix of the original's test geometry for (c, s, scale)."""
    affine = get_affine_transform(np.asarray(c, np.float32), s, 0,
                                  [stride * int(out_hw[1]), stride * int(out_hw[0])])
    return np.vstack([affine, [0, 0, 1]]) @ np.diag([scale, scale, 1.0])


def _post(dets_in_input_px, matrix):
    """Map one image's decoded persons to source pixels: rows ``[box, score, joints]``."""
    boxes = map_points_to_image(dets_in_input_px['bboxes'].numpy().reshape(-1, 2, 2), matrix)
    kps = map_points_to_image(dets_in_input_px['keypoints'].numpy(), matrix)
    return np.concatenate([boxes.reshape(-1, 4), dets_in_input_px['scores'].numpy()[:, None],
                           kps.reshape(len(kps), -1)], axis=1)


@pytest.fixture(scope='module')
def z():
    return load_npz('decode_multipose.npz')


def _check_rows(got, ref, coord_atol):
    np.testing.assert_array_equal(got[..., -1], ref[..., -1])  # labels, in order
    np.testing.assert_allclose(got[..., 4], ref[..., 4], rtol=0, atol=1e-6)  # scores, in order
    coords = [i for i in range(got.shape[-1] - 1) if i != 4]
    np.testing.assert_allclose(got[..., coords], ref[..., coords], rtol=0, atol=coord_atol)
    return float(np.abs(got[..., :-1] - ref[..., :-1]).max())


@pytest.mark.golden
def test_golden_case_a_plain_decode(z):
    maps = [_t(z['A_hm']), _t(z['A_wh']), _t(dense(z, 'A_hps')), _t(z['A_reg'])]
    dets = multi_pose_decode(*maps, hm_hp=_t(dense(z, 'A_hm_hp')),
                             hp_offset=_t(z['A_hp_offset']), k=100)
    assert _check_rows(_rows(dets), z['A_dets'], 1e-4) < 1e-4
    dets = multi_pose_decode(*maps, k=100)  # pure regression
    _check_rows(_rows(dets), z['A_dets_no_hm_hp'], 1e-4)


@pytest.mark.golden
def test_golden_case_a_post_processing(z):
    head = CenterNetPoseHead()
    maps = dict(hm=_t(z['A_hm']), wh=_t(z['A_wh']), hps=_t(dense(z, 'A_hps')),
                reg=_t(z['A_reg']), hm_hp=_t(dense(z, 'A_hm_hp')),
                hp_offset=_t(z['A_hp_offset']))
    dets = head.decode_maps(maps)  # network-input pixels
    rows = []
    for i in range(2):
        matrix = _homography(z['A_post_c'][i], float(z['A_post_s'][i]), z['A_post_out_hw'])
        one = {k: v[i] for k, v in dets.items()}
        rows.append(np.concatenate([np.full((100, 1), i), _post(one, matrix)], 1))
    np.testing.assert_allclose(np.concatenate(rows), z['A_post'], rtol=0, atol=1e-3)


@pytest.mark.golden
def test_golden_case_b_flip_test(z):
    flip_idx = load_json('decode_multipose.json')['flip_idx']
    raw = dict(hm=_t(z['B_hm_logits']), wh=_t(z['B_wh']), hps=_t(dense(z, 'B_hps')),
               reg=_t(z['B_reg']), hm_hp=_t(dense(z, 'B_hm_hp_logits')),
               hp_offset=_t(z['B_hp_offset']))
    merged = merge_flip_outputs({k: v[:1] for k, v in raw.items()},
                                {k: v[1:] for k, v in raw.items()}, flip_idx)
    for key, ref in (('hm', z['B_merged_hm']), ('wh', z['B_merged_wh']),
                     ('hps', dense(z, 'B_merged_hps')), ('hm_hp', dense(z, 'B_merged_hm_hp'))):
        np.testing.assert_allclose(merged[key].numpy(), ref, rtol=0, atol=1e-6, err_msg=key)
    assert torch.equal(merged['reg'], raw['reg'][:1])
    assert torch.equal(merged['hp_offset'], raw['hp_offset'][:1])
    dets = multi_pose_decode(merged['hm'], merged['wh'], merged['hps'], merged['reg'],
                             merged['hm_hp'], merged['hp_offset'], k=100)
    _check_rows(_rows(dets), z['B_dets'], 1e-4)

    head = CenterNetPoseHead()
    dets = head.decode_maps(merged)
    matrix = _homography(z['B_post_c'], float(z['B_post_s']), z['B_post_out_hw'],
                         float(z['B_post_scale']))
    post = _post({k: v[0] for k, v in dets.items()}, matrix)
    np.testing.assert_allclose(post, z['B_post'][:, 1:], rtol=0, atol=1e-3)


# ---------------------------------------------------------------------- synthetic rules
def _one_person_maps(h=32, w=32, joint_peak=None, joint_score=0.9):
    """A person centred at cell (16, 16), box 10 wide and 20 high, joint 0 regressed to (18, 14)."""
    hm = torch.full((1, 1, h, w), 0.01)
    hm[0, 0, 16, 16] = 0.8
    wh = torch.zeros(1, 2, h, w)
    wh[0, 0, 16, 16], wh[0, 1, 16, 16] = 10, 20
    hps = torch.zeros(1, 34, h, w)
    hps[0, 0, 16, 16], hps[0, 1, 16, 16] = 2, -2
    hm_hp = torch.full((1, 17, h, w), 0.01)
    if joint_peak is not None:
        hm_hp[0, 0, joint_peak[1], joint_peak[0]] = joint_score
    zeros = torch.zeros(1, 2, h, w)
    return hm, wh, hps, zeros, hm_hp, zeros


@pytest.mark.parametrize('peak,score,snaps', [
    ((19, 15), 0.9, True),  # near, strong, inside the box
    ((19, 15), 0.1, False),  # not above the 0.1 threshold
    ((21, 15), 0.9, True),  # on the box border (x = x2 = 21)
    ((18, 20), 0.9, True),  # exactly 0.3 * max(10, 20) = 6 cells away
    ((22, 14), 0.9, False),  # outside the box (x > x2 = 21), although only 4 cells away
    ((12, 21), 0.9, False),  # inside the box, farther than 0.3 * max(10, 20) = 6 cells
])
def test_joint_snapping_rules(peak, score, snaps):
    maps = _one_person_maps(joint_peak=peak, joint_score=score)
    dets = multi_pose_decode(*maps, k=5)
    joint = dets['keypoints'][0, 0, 0].tolist()
    if snaps:
        assert joint == [peak[0] + 0.0, peak[1] + 0.0]  # zero hp_offset
    else:
        assert joint == [18.0, 14.0]  # the regressed position (integer centre + hps)
    assert dets['bboxes'][0, 0].tolist() == [11.0, 6.0, 21.0, 26.0]
