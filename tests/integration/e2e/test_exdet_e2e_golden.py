# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet end to end (golden sections 12.1 and 12.5): original DLA-34 exdet checkpoint ->
converter -> network outputs, decoded rows of the original test path on the e2e images, and
``tools/test.py`` (no-aug and flip), whose public reference results are empty."""
import json
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from golden import (REPO, golden_path, load_json, load_npz, match_rows,
                    write_original_checkpoint)
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import load_checkpoint

from mmcenternet.utils.convert_official import convert_checkpoint

CONFIG = 'configs/centernet_exdet/dla34_coco.py'
MODE_FLAGS = {'noaug': [], 'flip': ['--flip']}


def build_model() -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model).eval()


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    folder = tmp_path_factory.mktemp('exdet_ckpt')
    src, dst = str(folder / 'orig.pth'), str(folder / 'dla34_exdet.pth')
    write_original_checkpoint('dla_34_exdet', src)
    info = convert_checkpoint(src, dst)
    manifest = load_json('nets', 'manifest_dla_34_exdet.json')
    assert info['task'] == 'exdet' and info['num_classes'] == manifest['heads']['hm_c']
    return dst


@pytest.mark.golden
def test_converted_exdet_network_matches_original(tmp_path):
    z = load_npz('nets', 'dla_34_exdet.npz')
    manifest = load_json('nets', 'manifest_dla_34_exdet.json')
    src, dst = str(tmp_path / 'orig.pth'), str(tmp_path / 'conv.pth')
    write_original_checkpoint('dla_34_exdet', src, seed=int(z['weight_seed']))
    info = convert_checkpoint(src, dst)
    assert info['task'] == 'exdet'
    model = build_model()
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    with torch.no_grad():
        outs = model(torch.from_numpy(z['input']), mode='tensor')
    names = list(manifest['heads'])
    assert names == ['hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r']
    assert len(outs) == len(names)
    for name, out in zip(names, outs):
        ref = z[f'out0_{name}']
        assert tuple(out.shape) == ref.shape
        np.testing.assert_allclose(out.numpy(), ref, atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.slow
@pytest.mark.golden
def test_decoded_rows_match_original_test_path(converted):
    """The 1000 decoded quadruples per image (and per mirrored image with flip) of the original's
    ``process`` on the e2e images: >= 99 % of the rows matched in all 14 columns."""
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    refs = {mode: load_npz('e2e', f'decoded_dla_34_exdet_{mode}.npz') for mode in MODE_FLAGS}
    model = build_model()
    load_checkpoint(model, converted, map_location='cpu', strict=True)
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    pipeline = Compose(cfg.test_pipeline)
    images = json.load(open(osp.join(e2e, 'annotations_e2e.json')))['images']
    coords = list(range(4)) + list(range(5, 13))
    for img in images:
        data = pipeline(dict(img_path=osp.join(e2e, img['file_name']), img_id=img['id']))
        batch = model.data_preprocessor(dict(inputs=[data['inputs']],
                                             data_samples=[data['data_samples']]), False)
        x = batch['inputs']
        with torch.no_grad():
            outs = model.bbox_head(model.extract_feat(torch.cat([x, x.flip(-1)])))
            dets = model.bbox_head.decode_maps(model.bbox_head.split_stacks(outs)[-1]).numpy()
        for mode, views in (('noaug', dets[:1]), ('flip', dets)):
            ref = refs[mode][f'img{img["id"]}']
            assert ref.shape == views.shape, (mode, ref.shape, views.shape)
            assert (ref[..., 4] < 0).all()  # random weights: every quadruple is penalised
            for v in range(len(views)):
                n = match_rows(ref[v], views[v], coords, 4, 13)
                assert n >= 0.99 * len(ref[v]), (mode, img['id'], v, n)


@pytest.mark.slow
@pytest.mark.golden
@pytest.mark.parametrize('mode', list(MODE_FLAGS))
def test_tools_test_gives_the_original_empty_results(mode, converted, tmp_path):
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    ref = load_npz('e2e', f'results_dla_34_exdet_{mode}.npz')
    with open(golden_path('e2e', f'results_dla_34_exdet_{mode}.json')) as f:
        assert json.load(f) == []
    out = str(tmp_path / 'preds.pkl')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, converted, *MODE_FLAGS[mode], '--out', out,
         '--work-dir', str(tmp_path), '--cfg-options',
         f'test_dataloader.dataset.data_root={e2e}/',
         'test_dataloader.dataset.ann_file=annotations_e2e.json',
         'test_dataloader.dataset.data_prefix.img=',
         f'test_evaluator.ann_file={e2e}/annotations_e2e.json'],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == len(load_json('e2e', 'annotations_e2e.json')['images'])
    for p in preds:
        assert ref[f'img{p["img_id"]}'].shape[0] == 0
        inst = p['pred_instances']
        assert len(inst['scores']) == 0
        assert tuple(inst['bboxes'].shape) == (0, 4)
