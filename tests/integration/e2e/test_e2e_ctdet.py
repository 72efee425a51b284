# Copyright (c) mmcenternet contributors. All rights reserved.
"""End to end, as a user runs it: original checkpoint -> converter -> tools/test.py on real
images -> the original test path's detections (golden section 11), for no-aug, flip and
flip + multi-scale."""
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
from golden import REPO, golden_path, load_json, load_npz, match_rows, write_original_checkpoint

MODELS = {
    'dla_34': 'configs/centernet/dla34_1x_coco.py',
    'resdcn_18': 'configs/centernet/resdcn18_1x_coco.py',
    'resdcn_101': 'configs/centernet/resdcn101_1x_coco.py',
}
MODE_FLAGS = {'noaug': [], 'flip': ['--flip'], 'ms': ['--tta']}
# Every case runs the configs' deformable convolution (DCNv2Fast, impl='auto': mmcenternet's fast
# implementation on CPU); one case runs mmcv's op instead.
CASES = [(arch, mode, None) for mode in MODE_FLAGS for arch in MODELS]
CASES.append(('dla_34', 'noaug', 'mmcv'))


def run_tool(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Converted checkpoints, created once per architecture."""
    folder = tmp_path_factory.mktemp('ckpt')
    cache = {}

    def get(arch: str) -> str:
        if arch not in cache:
            src, dst = str(folder / f'{arch}_orig.pth'), str(folder / f'{arch}.pth')
            write_original_checkpoint(f'{arch}_ctdet', src)
            run_tool('tools/model_converters/centernet2mmcenternet.py', src, dst)
            cache[arch] = dst
        return cache[arch]

    return get


@pytest.mark.slow
@pytest.mark.golden
@pytest.mark.parametrize('arch,mode,dcn_impl', CASES,
                         ids=[f'{m}-{a}' + (f'-{i}-dcn' if i else '') for a, m, i in CASES])
def test_tools_test_reproduces_original_detections(arch, mode, dcn_impl, converted, tmp_path):
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    ref = load_npz('e2e', f'results_{arch}_ctdet_{mode}.npz')
    out = str(tmp_path / 'preds.pkl')
    proc = run_tool(
        'tools/test.py', MODELS[arch], converted(arch), *MODE_FLAGS[mode], '--out', out,
        '--work-dir', str(tmp_path), '--cfg-options', f'test_dataloader.dataset.data_root={e2e}/',
        'test_dataloader.dataset.ann_file=annotations_e2e.json',
        'test_dataloader.dataset.data_prefix.img=',
        f'test_evaluator.ann_file={e2e}/annotations_e2e.json',
        *([f'model.neck.dcn_cfg.impl={dcn_impl}'] if dcn_impl else []))
    assert 'Average Precision' in proc.stdout + proc.stderr  # the COCO table is printed
    cat_ids = [c['id'] for c in load_json('e2e', 'annotations_e2e.json')['categories']]
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == len(load_json('e2e', 'annotations_e2e.json')['images'])
    for p in preds:
        inst = p['pred_instances']
        rows = np.concatenate([
            np.array([cat_ids[int(c)] for c in inst['labels']])[:, None],
            inst['bboxes'].numpy(), inst['scores'].numpy()[:, None]
        ], 1)
        r = ref[f'img{p["img_id"]}']
        assert len(rows) == len(r)
        assert match_rows(r, rows, [1, 2, 3, 4], 5, 0) >= 0.99 * len(r)
