# Copyright (c) mmcenternet contributors. All rights reserved.
"""multi_pose training targets: golden ``multipose_targets`` and synthetic rule checks."""
import hashlib

import numpy as np
import pytest
import torch
from golden import dense, load_json, load_npz

from mmcenternet.datasets.transforms import COCO_FLIP_INDICES, CenterNetPoseRandomAffine
from mmcenternet.models.task_modules import CenterNetPoseTargetGenerator

INT_KEYS = ('ind', 'reg_mask', 'hps_mask', 'hp_ind', 'hp_mask')
FLOAT_KEYS = ('wh', 'reg', 'hps', 'hp_offset')


@pytest.fixture(scope='module')
def golden():
    return (load_npz('multipose_targets.npz'), load_json('multipose_targets.json'),
            load_npz('ctdet_targets.npz'), load_json('ctdet_targets.json'))


def _variant_inputs(golden, n):
    z, meta, ct, ct_meta = golden
    v = meta['variants'][n]
    img = ct[ct_meta['variants'][v['inp_same_as_ctdet_variant']['index']]['decoded_image_key']]
    kps = z[f'v{n}_ann_keypoints']
    results = dict(
        img=img.copy(),
        img_path=v['file_name'],
        bbox=z[f'v{n}_ann_bbox_xyxy'].copy(),
        keypoints=kps[..., :2].astype(np.float32),
        keypoints_visible=(kps[..., 2] > 0).astype(np.float32),
        flip_indices=list(COCO_FLIP_INDICES))
    return v, results


def _replay(monkeypatch, draws):
    """Make NumPy's global random functions return the recorded draws, checking call order."""
    queue = list(draws)

    def make(fn):

        def draw(*args, **kwargs):
            rec = queue.pop(0)
            assert rec['fn'] == fn, f'original drew {rec["fn"]} here, got {fn}'
            if fn == 'randint':
                assert (kwargs.get('low'), kwargs.get('high')) == (rec['low'], rec['high'])
            if fn == 'choice':
                np.testing.assert_array_equal(args[0], rec['array'])
            return rec['returned']

        return draw

    for fn in ('choice', 'randint', 'random', 'randn'):
        monkeypatch.setattr(np.random, fn, make(fn))
    return queue


@pytest.mark.golden
def test_golden_multipose_targets(golden, monkeypatch):
    z, meta, _, _ = golden
    settings = meta['settings']
    mean = np.array(settings['mean'], np.float32).reshape(1, 1, 3)
    std = np.array(settings['std'], np.float32).reshape(1, 1, 3)
    generator = CenterNetPoseTargetGenerator(num_keypoints=settings['num_joints'],
                                             max_objs=settings['max_objs'])
    out_hw = (settings['output_h'], settings['output_w'])
    for n in range(int(z['num_variants'])):
        v, results = _variant_inputs(golden, n)
        c, s, flip = z[f'v{n}_c'], float(z[f'v{n}_s']), bool(z[f'v{n}_flip'])
        transform = CenterNetPoseRandomAffine(
            input_size=(settings['input_w'], settings['input_h']),
            random_crop=not v['not_rand_crop'], shift=settings['shift'],
            scale=settings['scale'], flip_prob=settings['flip_prob'])
        if v['random_draws']:  # the random parameters, drawn in the original's order
            queue = _replay(monkeypatch, v['random_draws'])
            h, w = results['img'].shape[:2]
            c2, s2, rot, flip2 = transform.sample_params(h, w)
            monkeypatch.undo()
            assert not queue, f'{v["name"]}: draws left over {queue}'
            np.testing.assert_array_equal(c2, c)
            assert s2 == s and flip2 == flip and rot == 0
        out = transform.apply(results, c, s, 0.0, flip)

        inp = ((out['img'].astype(np.float32) / 255.) - mean) / std
        inp = np.ascontiguousarray(inp.transpose(2, 0, 1))
        assert hashlib.sha1(inp.tobytes()).hexdigest() == v['inp_sha1_float32'], v['name']

        t = generator([torch.from_numpy(out['bbox'])], [torch.from_numpy(out['keypoints'])],
                      [torch.from_numpy(out['keypoints_visible'])], out_hw)
        for key in ('hm', 'hm_hp'):
            np.testing.assert_allclose(t[key][0].numpy(), dense(z, f'v{n}_{key}'), rtol=0,
                                       atol=1e-6, err_msg=f'{v["name"]} {key}')
        for key in FLOAT_KEYS:
            np.testing.assert_allclose(t[key][0].numpy(), z[f'v{n}_{key}'], rtol=0, atol=1e-4,
                                       err_msg=f'{v["name"]} {key}')
        for key in INT_KEYS:
            np.testing.assert_array_equal(t[key][0].numpy().astype(np.int64),
                                          z[f'v{n}_{key}'].astype(np.int64),
                                          err_msg=f'{v["name"]} {key}')
        # gt_det: box rebuilt from centre and size, then the joints of the labelled keypoints
        # in output pixels, for every used person in order.
        gt_det = z[f'v{n}_gt_det']
        used = np.flatnonzero((t['wh'][0].numpy() > 0).all(1))
        assert len(used) == len(gt_det)
        reg, wh = t['reg'][0].numpy(), t['wh'][0].numpy()
        ind = t['ind'][0].numpy()
        ct = np.stack([ind % out_hw[1], ind // out_hw[1]], 1) + reg
        boxes = np.concatenate([ct - wh / 2, ct + wh / 2], 1)[used]
        np.testing.assert_allclose(boxes, gt_det[:, :4], atol=1e-4)
        vis = out['keypoints_visible'][used] > 0
        joints = out['keypoints'][used] / 4
        np.testing.assert_allclose(joints[vis], gt_det[:, 5:39].reshape(-1, 17, 2)[vis],
                                   atol=1e-4)


# ---------------------------------------------------------------------- synthetic rules
def _person(x1, y1, x2, y2, joints=None, nj=17):
    """A person in input pixels (stride 4) with ``joints`` {index: (x, y)} labelled."""
    kps = np.zeros((nj, 2), np.float32)
    vis = np.zeros(nj, np.float32)
    for j, (x, y) in (joints or {}).items():
        kps[j] = (x, y)
        vis[j] = 1
    return np.array([x1, y1, x2, y2], np.float32), kps, vis


def _targets(persons, out_hw=(32, 32), rotated=None, **kwargs):
    boxes = torch.from_numpy(np.stack([p[0] for p in persons]).reshape(-1, 4))
    kps = torch.from_numpy(np.stack([p[1] for p in persons]).reshape(-1, 17, 2))
    vis = torch.from_numpy(np.stack([p[2] for p in persons]).reshape(-1, 17))
    gen = CenterNetPoseTargetGenerator(**kwargs)
    return gen([boxes], [kps], [vis], out_hw, rotated=rotated)


def test_person_without_keypoints_is_a_centre_positive_without_regression():
    t = _targets([_person(8, 8, 48, 88), _person(60, 20, 100, 60, {0: (80, 40)})])
    hm = t['hm'][0, 0]
    # both centres are exact positives (the 0.9999 of the original is overwritten)
    assert hm[int(48 / 4), int(28 / 4)] == 1 and hm[int(40 / 4), int(80 / 4)] == 1
    assert t['reg_mask'][0, :2].tolist() == [0, 1]
    assert t['wh'][0, 0].tolist() == [10, 20]  # size still written, but masked out
    assert t['hps_mask'][0, 0].sum() == 0 and t['hps_mask'][0, 1, :2].tolist() == [1, 1]


def test_joint_outside_the_map_is_dropped_and_offsets_follow_the_rules():
    joints = {0: (50.0, 30.0), 1: (130.0, 30.0), 2: (-2.0, 10.0), 5: (127.9, 127.9)}
    t = _targets([_person(20, 20, 100, 100, joints)])
    mask = t['hp_mask'][0, :17]
    assert mask.tolist() == [1, 0, 0, 0, 0, 1] + [0] * 11
    ct_int = np.array([15, 15])
    np.testing.assert_allclose(t['hps'][0, 0, :2].numpy(), np.array([12.5, 7.5]) - ct_int)
    np.testing.assert_allclose(t['hp_offset'][0, 0].numpy(), [0.5, 0.5])
    assert t['hp_ind'][0, 0] == 7 * 32 + 12 and t['hp_ind'][0, 5] == 31 * 32 + 31
    assert t['hm_hp'][0, 0, 7, 12] == 1 and t['hm_hp'][0, 1].sum() == 0


def test_only_the_first_max_objs_persons_count():
    persons = [_person(4 * i, 0, 4 * i + 8, 8, {0: (4 * i + 4, 4)}) for i in range(5)]
    t = _targets(persons, max_objs=3)
    assert t['reg_mask'].shape == (1, 3) and t['reg_mask'].sum() == 3
    assert t['hm'][0, 0].eq(1).sum() == 3  # persons 4 and 5 leave no peak
    assert t['hp_mask'].shape == (1, 3 * 17)


def test_empty_box_is_skipped_unless_rotated():
    persons = [_person(10, 10, 10, 50, {0: (10, 30)}), _person(-30, 8, -5, 40, {0: (-10, 20)})]
    t = _targets(persons)
    assert t['hm'].sum() == 0 and t['reg_mask'].sum() == 0 and t['hp_mask'].sum() == 0
    # rotated samples keep every person (even empty boxes) but only the joint heatmaps count
    t = _targets([_person(8, 8, 48, 88, {3: (20, 20)})], rotated=[True])
    assert torch.all(t['hm'] == np.float32(0.9999))
    assert t['reg_mask'].sum() == 0 and t['hps_mask'].sum() == 0
    assert t['hm_hp'][0, 3, 5, 5] == 1 and t['hp_mask'][0, 3] == 1


def test_batch_is_independent_per_image_and_accepts_empty_images():
    gen = CenterNetPoseTargetGenerator()
    b, k, v = _person(8, 8, 48, 88, {0: (20, 20)})
    t = gen([torch.from_numpy(b[None]), torch.zeros((0, 4))],
            [torch.from_numpy(k[None]), torch.zeros((0, 17, 2))],
            [torch.from_numpy(v[None]), torch.zeros((0, 17))], (32, 32))
    assert t['hm'][1].sum() == 0 and t['hm'][0].max() == 1
    single = gen([torch.from_numpy(b[None])], [torch.from_numpy(k[None])],
                 [torch.from_numpy(v[None])], (32, 32))
    for key, value in single.items():
        torch.testing.assert_close(t[key][:1], value)


def test_wrong_keypoint_count_is_reported():
    gen = CenterNetPoseTargetGenerator()
    with pytest.raises(ValueError, match='16 keypoints'):
        gen([torch.zeros((1, 4))], [torch.zeros((1, 16, 2))], [torch.ones((1, 16))], (8, 8))
