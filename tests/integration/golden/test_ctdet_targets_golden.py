# Copyright (c) mmcenternet contributors. All rights reserved.
"""Training augmentation + targets against the original's ``CTDetDataset`` (golden section 3)."""
from unittest import mock

import numpy as np
import pytest
import torch
from golden import ScriptedDraws, dense, load_json, load_npz, target_settings
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets.transforms import CenterNetRandomAffine
from mmcenternet.datasets.transforms.affine import get_affine_transform
from mmcenternet.models.task_modules import CenterNetTargetGenerator


def _variants():
    meta = load_json('ctdet_targets.json')
    return meta['variants']


def _settings():
    return target_settings(load_json('ctdet_targets.json'))


def _run_variant(z, v):
    n = v['index']
    img = z[v['decoded_image_key']]
    h, w = img.shape[:2]
    xywh = z[f'v{n}_ann_bbox_xywh']
    boxes = np.array([[x, y, x + bw, y + bh] for x, y, bw, bh in xywh.tolist()], np.float32)
    st = _settings()
    aug = CenterNetRandomAffine(input_size=st['input_size'], down_ratio=st['down_ratio'],
                                random_crop=not v['not_rand_crop'])
    results = dict(img=img.copy(), gt_bboxes=HorizontalBoxes(boxes))
    if v['mode'] == 'test':
        c = np.array([w / 2., h / 2.], np.float32)
        s, flip = max(h, w) * 1.0, False
    else:
        rng = ScriptedDraws(v['random_draws'])
        with mock.patch.multiple(np.random, choice=rng.choice, randint=rng.randint,
                                 randn=rng.randn, random=rng.random):
            c, s, flip = aug.sample_params(h, w)
        assert not rng.draws
    results = aug.apply(results, c, s, flip)
    return aug, results, c, s, flip


@pytest.mark.golden
def test_ctdet_targets_match_original():
    z = load_npz('ctdet_targets.npz')
    st = _settings()
    gen = CenterNetTargetGenerator(max_objs=st['max_objs'])
    for v in _variants():
        n = v['index']
        aug, results, c, s, flip = _run_variant(z, v)
        np.testing.assert_allclose(c, z[f'v{n}_c'], rtol=0, atol=1e-4, err_msg=v['name'])
        assert s == pytest.approx(float(z[f'v{n}_s']), rel=1e-12)
        assert flip == bool(z[f'v{n}_flip'])
        np.testing.assert_allclose(get_affine_transform(c, s, 0, list(st['input_size'])),
                                   z[f'v{n}_trans_input'], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(aug.output_transform(c, s), z[f'v{n}_trans_output'],
                                   rtol=1e-9, atol=1e-9)
        inp = (results['img'].astype(np.float32) / 255. - st['mean']) / st['std']
        np.testing.assert_allclose(inp.transpose(2, 0, 1), z[f'v{n}_inp'].astype(np.float32),
                                   atol=2e-3, err_msg=v['name'])
        labels = torch.from_numpy(z[f'v{n}_ann_label'])
        t = gen([results['gt_bboxes'].tensor], [labels], st['num_classes'],
                st['output_size'][::-1], stride=st['down_ratio'])
        np.testing.assert_allclose(t['hm'][0].numpy(), dense(z, f'v{n}_hm'), atol=1e-6,
                                   err_msg=v['name'])
        np.testing.assert_array_equal(t['ind'][0].numpy(), z[f'v{n}_ind'], err_msg=v['name'])
        np.testing.assert_array_equal(t['reg_mask'][0].numpy(), z[f'v{n}_reg_mask'])
        np.testing.assert_allclose(t['wh'][0].numpy(), z[f'v{n}_wh'], atol=1e-4)
        np.testing.assert_allclose(t['reg'][0].numpy(), z[f'v{n}_reg'], atol=1e-4)
        assert int(t['reg_mask'][0].sum()) == v['num_pos_reg_mask']
