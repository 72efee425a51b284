# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's non-model-zoo options against its own code (golden section 13): the
``mse_loss`` Gaussian, the dense regression maps, ``CtdetLoss`` under each option, the
``cat_spec_wh`` / no-offset ctdet decoding and the pose decoder variants. Sizes, counts and K are
read from the data."""
import numpy as np
import pytest
import torch
from golden import load_json, load_npz

from mmcenternet.models.dense_heads import CenterNetDetHead
from mmcenternet.models.task_modules import CenterNetBBoxCoder, CenterNetTargetGenerator
from mmcenternet.models.task_modules.coders.pose_decode import multi_pose_decode
from mmcenternet.models.utils.gaussian_target import (draw_dense_reg_, draw_msra_gaussian_,
                                                      draw_umich_gaussian_np)

pytestmark = pytest.mark.golden


@pytest.fixture(scope='module')
def golden():
    return load_json('options', 'options.json'), load_npz('options', 'options.npz')


def test_msra_gaussian(golden):
    meta, z = golden
    assert meta['msra']
    for case in meta['msra']:
        k = case['k']
        hm = z[f'msra_{k}_in'].copy()
        draw_msra_gaussian_(hm, case['center_xy'], case['sigma'])
        np.testing.assert_allclose(hm, z[f'msra_{k}_out'], atol=1e-5, rtol=0, err_msg=str(k))


def _replay_dense(case):
    h, w = case['shape_hw']
    hm = np.zeros((h, w), np.float32)
    wh, off = np.zeros((2, h, w), np.float32), np.zeros((2, h, w), np.float32)
    for box in case['boxes_in_draw_order']:
        center = np.array(box['center'], np.float32)
        ct = center.astype(np.int32)
        draw_umich_gaussian_np(hm, ct, box['radius'])
        draw_dense_reg_(wh, hm, ct, box['wh'], box['radius'])
        draw_dense_reg_(off, hm, ct, center - ct, box['radius'], is_offset=True)
    return hm, wh, off


def test_dense_regression_maps(golden):
    meta, z = golden
    assert meta['dense']
    for case in meta['dense']:
        hm, wh, off = _replay_dense(case)
        k = case['k']
        np.testing.assert_allclose(hm, z[f'dense_{k}_hm'], atol=1e-5, rtol=0)
        np.testing.assert_allclose(wh, z[f'dense_{k}_wh'], atol=1e-5, rtol=0)
        np.testing.assert_allclose(off, z[f'dense_{k}_offset'], atol=1e-5, rtol=0)


def test_target_generator_assembles_the_dense_maps_in_draw_order():
    """The generator with ``dense_wh``: the golden-checked drawing above, object by object in
    annotation order, and the mask of the final heat map (overlapping boxes, two classes)."""
    from mmcenternet.models.utils.gaussian_target import radius_from_box_size
    boxes = torch.tensor([[10., 8., 30., 40.], [14., 12., 40., 30.], [2., 30., 9., 37.]])
    labels = torch.tensor([0, 1, 0])
    t = CenterNetTargetGenerator()([boxes], [labels], 2, (48, 64), stride=1, dense_wh=True)
    case = dict(shape_hw=(48, 64), boxes_in_draw_order=[])
    for b in boxes:
        size = torch.stack([b[2] - b[0], b[3] - b[1]])
        radius = int(radius_from_box_size(size[1:], size[:1])[0])
        case['boxes_in_draw_order'].append(
            dict(center=[float((b[0] + b[2]) / 2), float((b[1] + b[3]) / 2)],
                 wh=size.tolist(), radius=radius))
    _, wh, _ = _replay_dense(case)  # one heat map for every class, as the original's max
    np.testing.assert_array_equal(t['dense_wh'][0].numpy(), wh)
    mask = t['hm'][0].amax(0)
    assert torch.equal(t['dense_wh_mask'][0], torch.stack([mask, mask]))


OPTION_HEADS = {
    'default': dict(),
    'mse_loss': dict(loss_heatmap=dict(type='CenterNetMSELoss'),
                     target_generator=dict(type='CenterNetTargetGenerator', heatmap='msra')),
    'sl1': dict(loss_wh=dict(type='CenterNetRegSmoothL1Loss', loss_weight=0.1),
                loss_offset=dict(type='CenterNetRegSmoothL1Loss')),
    'dense_wh': dict(dense_wh=True),
    'cat_spec_wh': dict(cat_spec_wh=True),
    'norm_wh': dict(norm_wh=True),
    'not_reg_offset': dict(loss_offset=None),
    'weights': dict(loss_heatmap=dict(type='CenterNetFocalLoss', loss_weight=0.7),
                    loss_wh=dict(type='CenterNetRegL1Loss', loss_weight=0.3),
                    loss_offset=dict(type='CenterNetRegL1Loss', loss_weight=2.0)),
}
WEIGHTS = {'weights': (0.7, 0.3, 2.0)}


@pytest.mark.parametrize('option', list(OPTION_HEADS))
def test_ctdet_loss_under_each_option(golden, option):
    meta, z = golden
    ref = meta['ctdet_losses'][option]
    num_classes = z['lossbatch_hm'].shape[1]
    with (pytest.warns(UserWarning, match="changes nothing") if option == "norm_wh"
          else _nothing()):
        head = CenterNetDetHead(num_classes=num_classes, in_channels=4, head_conv=4,
                                **OPTION_HEADS[option])
    batch = {k[len('lossbatch_'):]: torch.from_numpy(z[k]) for k in z.files
             if k.startswith('lossbatch_')}
    batch['reg_mask'] = batch['reg_mask'].float()
    maps = dict(hm=torch.from_numpy(z['lossout_hm']), reg=torch.from_numpy(z['lossout_reg']),
                wh=torch.from_numpy(z['lossout_wh_cat' if option == 'cat_spec_wh' else
                                      'lossout_wh']))
    losses = head.loss_by_targets([maps], batch)
    hm_w, wh_w, off_w = WEIGHTS.get(option, (1.0, 0.1, 1.0))
    np.testing.assert_allclose(losses['loss_heatmap'].item() / hm_w, ref['hm_loss'], rtol=1e-5)
    np.testing.assert_allclose(losses['loss_wh'].item() / wh_w, ref['wh_loss'], rtol=1e-5)
    off = losses['loss_offset'].item() / off_w if 'loss_offset' in losses else 0.0
    np.testing.assert_allclose(off, ref['off_loss'], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sum(v.item() for v in losses.values()), ref['loss'], rtol=1e-5)


class _nothing:

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _rows(bboxes, scores, labels):
    return torch.cat([bboxes, scores[..., None], labels[..., None].float()], -1).numpy()


def test_ctdet_decode_class_specific_sizes_and_no_offset(golden):
    meta, z = golden
    k = meta['decode']['ctdet_K']
    heat, wh_cat = torch.from_numpy(z['dec_heat']), torch.from_numpy(z['dec_wh_cat'])
    reg = torch.from_numpy(z['dec_reg'])
    coder = CenterNetBBoxCoder()
    got = _rows(*coder.decode(heat, wh_cat, reg, k=k))
    ref = z['dec_ctdet_cat_spec']
    np.testing.assert_array_equal(got[..., 5], ref[..., 5])
    np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-5)
    np.testing.assert_allclose(got[..., :4], ref[..., :4], atol=1e-4)
    got = _rows(*coder.decode(heat, wh_cat[:, :2], None, k=k))
    ref = z['dec_ctdet_no_reg']
    np.testing.assert_array_equal(got[..., 5], ref[..., 5])
    np.testing.assert_allclose(got[..., :5], ref[..., :5], atol=1e-4)


@pytest.mark.parametrize('variant', ['full', 'no_hm_hp', 'no_hp_offset', 'no_reg'])
def test_pose_decoder_variants(golden, variant):
    meta, z = golden
    k = meta['decode']['pose_K']
    t = {name: torch.from_numpy(z[f'pdec_{name}']) for name in
         ('heat', 'wh', 'kps', 'hm_hp', 'hp_offset')}
    reg = torch.from_numpy(z['dec_reg'])
    kwargs = dict(reg=reg, hm_hp=t['hm_hp'], hp_offset=t['hp_offset'])
    if variant == 'no_hm_hp':
        kwargs.update(hm_hp=None, hp_offset=None)
    elif variant == 'no_hp_offset':
        kwargs.update(hp_offset=None)
    elif variant == 'no_reg':
        kwargs.update(reg=None)
    dets = multi_pose_decode(t['heat'], t['wh'], t['kps'], k=k, **kwargs)
    got = torch.cat([dets['bboxes'], dets['scores'][..., None],
                     dets['keypoints'].flatten(2), dets['labels'][..., None].float()], -1).numpy()
    ref = z[f'pdec_{variant}']
    assert got.shape == ref.shape
    np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-5)
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_fixed_resolution_test_input(golden):
    """``fix_res``: the network input of the original's ``pre_process`` for each image, test
    resolution and scale (the input every 8th pixel, and its c / s)."""
    from mmcenternet.datasets.transforms import CenterNetFixRes, CenterNetTestResize
    meta, z = golden
    settings = load_json('ctdet_targets.json')['settings']
    mean = np.array(settings['mean'], np.float32)
    std = np.array(settings['std'], np.float32)
    assert meta['fixres']
    for case in meta['fixres']:
        key = case['key']
        img = z[f'{key}_img']
        res = dict(img=img.copy(), ori_shape=img.shape[:2])
        res = CenterNetTestResize(case['scale'])(res)
        res = CenterNetFixRes(case['input_res'])(res)
        np.testing.assert_allclose(res['fixres_center'], case['c'], err_msg=key)
        assert res['fixres_scale'] == case['s']
        assert res['img'].shape[:2] == tuple(case['inp_shape'][2:])
        inp = ((res['img'] / 255. - mean) / std).astype(np.float32).transpose(2, 0, 1)[None]
        np.testing.assert_allclose(inp[:, :, ::8, ::8], z[f'{key}_inp_stride8'], atol=1e-5,
                                   err_msg=key)
