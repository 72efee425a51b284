# Copyright (c) mmcenternet contributors. All rights reserved.
"""End to end as a user runs it: convert the original multi_pose checkpoint, then
``tools/test.py`` on the golden e2e images without and with flip test; compare the persons
with the original's ``results_dla_34_multi_pose_{noaug,flip}.npz`` (golden README section 11)."""
import json
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
from golden import REPO, golden_path, load_json, load_npz, write_original_checkpoint

CONFIG = osp.join(REPO, 'configs', 'centernet_pose', 'dla34_1x_coco.py')
COORD_TOL, SCORE_TOL, MIN_MATCHED = 0.05, 1e-4, 0.99


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The converted checkpoint and a COCO person-keypoints version of the e2e annotations."""
    tmp = tmp_path_factory.mktemp('pose_e2e')
    e2e_dir = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    ann = load_json('e2e', 'annotations_e2e.json')
    person = dict(id=1, name='person', supercategory='person',
                  keypoints=[f'joint_{i}' for i in range(17)], skeleton=[])
    ann['categories'] = [person]
    ann['annotations'] = [a for a in ann['annotations'] if a['category_id'] == 1]
    assert all(len(a['keypoints']) == 51 for a in ann['annotations'])
    ann_file = str(tmp / 'person_keypoints_e2e.json')
    with open(ann_file, 'w') as f:
        json.dump(ann, f)
    src, dst = str(tmp / 'model_140.pth'), str(tmp / 'multi_pose_dla34.pth')
    write_original_checkpoint('dla_34_multi_pose', src)
    subprocess.run([sys.executable, 'tools/model_converters/centernet2mmcenternet.py', src, dst],
                   cwd=REPO, check=True, capture_output=True)
    return tmp, e2e_dir, ann_file, dst


def _rows(sample):
    p = sample['pred_instances']
    n = len(p['bbox_scores'])
    return np.concatenate([np.ones((n, 1)), p['bboxes'], p['bbox_scores'][:, None],
                           p['keypoints'].reshape(n, -1)], axis=1)


def _match(pred: np.ndarray, ref: np.ndarray):
    """Greedy one-to-one matching under the README rule; returns (#matched, max coord error)."""
    used = np.zeros(len(pred), bool)
    matched, worst = 0, 0.0
    coords = [i for i in range(1, ref.shape[1]) if i != 5]
    for row in ref:
        err = np.abs(pred[:, coords] - row[coords]).max(axis=1)
        ok = (pred[:, 0] == row[0]) & (err <= COORD_TOL) & \
            (np.abs(pred[:, 5] - row[5]) <= SCORE_TOL) & ~used
        if ok.any():
            i = int(np.argmin(np.where(ok, err, np.inf)))
            used[i] = True
            matched += 1
            worst = max(worst, float(err[i]))
    return matched, worst


@pytest.mark.golden
@pytest.mark.slow
@pytest.mark.parametrize('mode', ['noaug', 'flip'])
def test_e2e_tools_test_matches_original(converted, mode):
    tmp, e2e_dir, ann_file, ckpt = converted
    out = str(tmp / f'{mode}.pkl')
    cmd = [
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--out', out, '--work-dir',
        str(tmp / f'work_{mode}'), '--cfg-options', f'test_dataloader.dataset.data_root={e2e_dir}/',
        f'test_dataloader.dataset.ann_file={ann_file}', 'test_dataloader.dataset.data_prefix.img=',
        f'test_evaluator.ann_file={ann_file}', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    if mode == 'noaug':
        cmd.append('--no-flip')  # flip test is the pose configs' default
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert 'coco/AP' in proc.stdout + proc.stderr  # mmpose's keypoint AP was computed
    with open(out, 'rb') as f:
        samples = pickle.load(f)
    ref = load_npz('e2e', f'results_dla_34_multi_pose_{mode}.npz')
    settings = load_json('e2e', 'e2e_settings.json')['modes'][f'dla_34_multi_pose_{mode}']
    assert sorted(int(s['img_id']) for s in samples) == sorted(int(k) for k in
                                                               settings['rows_per_image'])
    for sample in samples:
        img_id = int(sample['img_id'])
        pred, expected = _rows(sample), ref[f'img{img_id}']
        assert len(pred) == len(expected) == settings['rows_per_image'][str(img_id)]
        matched, worst = _match(pred, expected)
        assert matched >= MIN_MATCHED * len(expected), (img_id, matched, worst)
        assert worst <= COORD_TOL
