# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/test.py`` with the original's test options on generated data: the fixed-resolution
test (``--fix-res``) and soft-NMS with one scale (``--nms``), with or without the flip test."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp('test_options')
    data = str(base / 'data')
    make_shapes_dataset(data, 4, seed=3, split='val')
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    for p in model.bbox_head.parameters():  # decisive random maps
        torch.nn.init.normal_(p, std=0.3)
    wh = model.bbox_head.head_module.wh[0][-1]  # large boxes: neighbouring peaks overlap
    torch.nn.init.normal_(wh.weight, std=0.01)
    torch.nn.init.constant_(wh.bias, 12.0)
    ckpt = str(base / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return dict(base=base, data=data, ckpt=ckpt)


def _test(setup, name, *flags):
    out = str(setup['base'] / f'{name}.pkl')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, setup['ckpt'], '--out', out, '--work-dir',
         str(setup['base'] / name), *flags, '--cfg-options',
         f'test_dataloader.dataset.data_root={setup["data"]}/',
         f'test_evaluator.ann_file={setup["data"]}/annotations/val.json'],
        cwd=REPO, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Average Precision' in proc.stdout + proc.stderr
    with open(out, 'rb') as f:
        return pickle.load(f)


def test_nms_and_fixed_resolution(setup):
    plain = _test(setup, 'plain')
    nms = _test(setup, 'nms', '--nms')
    fix = _test(setup, 'fix', '--fix-res', '96')
    both = _test(setup, 'flip_nms', '--flip', '--nms')
    for a, b in zip(plain, nms):
        # soft-NMS re-scores overlapping rows of a class; the best row of each class stays
        sa, sb = a['pred_instances']['scores'].numpy(), b['pred_instances']['scores'].numpy()
        assert len(sb) == len(sa) and np.isclose(sa.max(), sb.max())
        assert (np.sort(sb) <= np.sort(sa) + 1e-6).all() and (np.sort(sb) < np.sort(sa)).any()
    for p in fix + both:
        assert len(p['pred_instances']['scores']) > 0
    # the fixed-resolution input differs from the keep_res canvas: other predictions
    assert not np.array_equal(plain[0]['pred_instances']['scores'].numpy(),
                              fix[0]['pred_instances']['scores'].numpy())


def test_fix_res_must_fit_the_network(setup):
    proc = subprocess.run([sys.executable, 'tools/test.py', CONFIG, setup['ckpt'],
                           '--fix-res', '100', '--cfg-options',
                           f'test_dataloader.dataset.data_root={setup["data"]}/'], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == \
        'error: --fix-res 100: the network needs inputs that are multiples of 32'


def test_oracle_error_analysis(setup):
    """With every map from the ground truth the random network finds every object (AP 1)."""
    import re
    out = str(setup['base'] / 'oracle.pkl')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, setup['ckpt'], '--out', out, '--work-dir',
         str(setup['base'] / 'oracle'), '--oracle', 'hm', 'wh', 'offset', '--cfg-options',
         f'test_dataloader.dataset.data_root={setup["data"]}/',
         f'test_evaluator.ann_file={setup["data"]}/annotations/val.json'],
        cwd=REPO, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS='1'))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert float(re.search(r'coco/bbox_mAP: ([\d.]+)', log).group(1)) >= 0.95
    proc = subprocess.run([sys.executable, 'tools/test.py', CONFIG, setup['ckpt'], '--oracle',
                           'hm', '--flip', '--cfg-options',
                           f'test_dataloader.dataset.data_root={setup["data"]}/'], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and '--oracle replaces the maps of the single-scale test' in \
        proc.stderr
