# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet augmentation + targets against the original's ``EXDetDataset`` (golden section 12.2)."""
from unittest import mock

import numpy as np
import pytest
import torch
from golden import ScriptedDraws, dense, load_json, load_npz, target_settings

from mmcenternet.datasets.transforms import CenterNetRandomAffine
from mmcenternet.datasets.transforms.affine import get_affine_transform
from mmcenternet.models.task_modules import CenterNetExdetTargetGenerator

PARTS = ('t', 'l', 'b', 'r')


def _run_variant(img, points, v, st):
    h, w = img.shape[:2]
    aug = CenterNetRandomAffine(input_size=st['input_size'], down_ratio=st['down_ratio'],
                                random_crop=not v['not_rand_crop'], mirror_center=False,
                                shift_style='exdet')
    if v['mode'] == 'test':
        c = np.array([w / 2., h / 2.])
        s, flip = max(h, w) * 1.0, False
    else:
        rng = ScriptedDraws(v['random_draws'])
        with mock.patch.multiple(np.random, choice=rng.choice, randint=rng.randint,
                                 randn=rng.randn, random=rng.random):
            c, s, flip = aug.sample_params(h, w)
        assert not rng.draws
    results = dict(img=img.copy(), gt_bboxes=None, gt_extreme_points=points.copy())
    return aug, aug.apply(results, c, s, flip), c, s, flip


@pytest.mark.golden
def test_exdet_targets_match_original():
    z = load_npz('exdet_targets.npz')
    ct = load_npz('ctdet_targets.npz')
    meta = load_json('exdet_targets.json')
    st = target_settings(meta)
    gen = CenterNetExdetTargetGenerator(max_objs=st['max_objs'])
    for v in meta['variants']:
        n, name = v['index'], v['name']
        img = ct[v['decoded_image'].split(':')[1]]
        points = z[f'v{n}_ann_extreme_points']
        aug, results, c, s, flip = _run_variant(img, points, v, st)
        np.testing.assert_allclose(c, z[f'v{n}_c'], rtol=0, atol=1e-9, err_msg=name)
        assert s == pytest.approx(float(z[f'v{n}_s']), rel=1e-12)
        assert flip == bool(z[f'v{n}_flip'])
        np.testing.assert_allclose(get_affine_transform(c, s, 0, list(st['input_size'])),
                                   z[f'v{n}_trans_input'], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(aug.output_transform(c, s), z[f'v{n}_trans_output'],
                                   rtol=1e-9, atol=1e-9)
        ref_inp = z[f'v{n}_inp'] if f'v{n}_inp' in z.files else \
            ct[f'v{v["inp_same_as_ctdet_variant"]}_inp']
        inp = (results['img'].astype(np.float32) / 255. - st['mean']) / st['std']
        np.testing.assert_allclose(inp.transpose(2, 0, 1), ref_inp.astype(np.float32),
                                   atol=2e-3, err_msg=name)
        labels = torch.from_numpy(z[f'v{n}_ann_label'])
        t = gen([torch.from_numpy(results['gt_extreme_points'])], [labels], st['num_classes'],
                st['output_size'][::-1], stride=st['down_ratio'])
        for p in PARTS + ('c', ):
            np.testing.assert_allclose(t[f'hm_{p}'][0].numpy(), dense(z, f'v{n}_hm_{p}'),
                                       atol=1e-6, rtol=0, err_msg=f'{name} hm_{p}')
        for p in PARTS:
            np.testing.assert_array_equal(t[f'ind_{p}'][0].numpy(), z[f'v{n}_ind_{p}'],
                                          err_msg=f'{name} ind_{p}')
            np.testing.assert_allclose(t[f'reg_{p}'][0].numpy(), z[f'v{n}_reg_{p}'], atol=1e-4,
                                       rtol=0, err_msg=f'{name} reg_{p}')
        np.testing.assert_array_equal(t['reg_mask'][0].numpy(), z[f'v{n}_reg_mask'])
        assert int(t['reg_mask'][0].sum()) == v['num_pos_reg_mask']
