# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/test.py --backend onnxruntime`` reproduces the original's detections on the e2e
images (golden section 11), as does the dependency-free example of docs/deployment.md."""
import json
import os
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from golden import REPO, golden_path, load_json, load_npz


onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from onnx_common import (  # noqa: E402,F401 (golden is a fixture)
    NETS, e2e_options, golden, match, run)


@pytest.mark.slow
@pytest.mark.golden
def test_tools_test_onnxruntime_backend_ctdet(golden, tmp_path):
    g = golden('dla_34_ctdet')
    out = str(tmp_path / 'preds.pkl')
    proc = run('tools/test.py', NETS['dla_34_ctdet'], '--backend', 'onnxruntime', '--onnx',
               g['onnx'], '--out', out, '--work-dir', str(tmp_path), *e2e_options())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Average Precision' in proc.stdout + proc.stderr
    cat_ids = [c['id'] for c in load_json('e2e', 'annotations_e2e.json')['categories']]
    ref = load_npz('e2e', 'results_dla_34_ctdet_noaug.npz')
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == len(load_json('e2e', 'annotations_e2e.json')['images'])
    for p in preds:
        inst = p['pred_instances']
        rows = np.concatenate([np.array([cat_ids[int(c)] for c in inst['labels']])[:, None],
                               inst['bboxes'].numpy(), inst['scores'].numpy()[:, None]], 1)
        r = ref[f'img{p["img_id"]}']
        assert len(rows) == len(r) == 100
        assert match(r, rows) >= 0.99 * len(r)
    # the image demo's path: mmdet's inference_detector on the same model, an in-memory image
    import cv2
    from mmdet.apis import inference_detector

    from mmcenternet.deployment.onnxruntime_model import init_onnxruntime_detector
    model = init_onnxruntime_detector(osp.join(REPO, NETS['dla_34_ctdet']), g['onnx'])
    assert model.dataset_meta['classes'][0] == 'person'
    first = load_json('e2e', 'annotations_e2e.json')['images'][0]
    res = inference_detector(model, cv2.imread(golden_path('e2e', first['file_name'])))
    same = [p for p in preds if p['img_id'] == first['id']][0]['pred_instances']
    np.testing.assert_array_equal(res.pred_instances.labels.numpy(), same['labels'].numpy())
    np.testing.assert_allclose(res.pred_instances.bboxes.numpy(), same['bboxes'].numpy(),
                               atol=1e-4)


@pytest.mark.slow
@pytest.mark.golden
def test_tools_test_onnxruntime_backend_pose_flip(golden, tmp_path):
    """Pose with the flip test: the mirrored input runs through onnxruntime too."""
    g = golden('dla_34_multi_pose')
    ann = load_json('e2e', 'annotations_e2e.json')
    ann['categories'] = [dict(id=1, name='person', supercategory='person',
                              keypoints=[f'joint_{i}' for i in range(17)], skeleton=[])]
    ann['annotations'] = [a for a in ann['annotations'] if a['category_id'] == 1]
    ann_file = str(tmp_path / 'person_keypoints_e2e.json')
    with open(ann_file, 'w') as f:
        json.dump(ann, f)
    out = str(tmp_path / 'preds.pkl')
    proc = run('tools/test.py', NETS['dla_34_multi_pose'], '--backend', 'onnxruntime',
               '--onnx', g['onnx'], '--out', out, '--work-dir', str(tmp_path),
               *e2e_options(ann_file))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ref = load_npz('e2e', 'results_dla_34_multi_pose_flip.npz')
    with open(out, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == len(ann['images'])
    for s in samples:
        p = s['pred_instances']
        n = len(p['bbox_scores'])
        rows = np.concatenate([np.ones((n, 1)), p['bboxes'], p['bbox_scores'][:, None],
                               p['keypoints'].reshape(n, -1)], axis=1)
        r = ref[f'img{int(s["img_id"])}']
        assert len(rows) == len(r)
        assert match(r, rows) >= 0.99 * len(r)

    # the multi-scale test wraps the onnxruntime model too; one scale is the flip test
    out_tta = str(tmp_path / 'preds_tta.pkl')
    proc = run('tools/test.py', NETS['dla_34_multi_pose'], '--backend', 'onnxruntime',
               '--onnx', g['onnx'], '--out', out_tta, '--work-dir', str(tmp_path), '--tta',
               '--tta-scales', '1', *e2e_options(ann_file))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out_tta, 'rb') as f:
        tta = {int(s['img_id']): s['pred_instances'] for s in pickle.load(f)}
    for s in samples:
        for key in ('keypoints', 'bboxes', 'bbox_scores'):
            np.testing.assert_array_equal(tta[int(s['img_id'])][key], s['pred_instances'][key])

    # the image demo draws persons from the same ONNX file
    e2e_dir = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    image = [i['file_name'] for i in ann['images']][0]
    proc = run('tools/misc/image_demo.py', osp.join(e2e_dir, image), NETS['dla_34_multi_pose'],
               '--onnx', g['onnx'], '--out-dir', str(tmp_path / 'drawn'), '--score-thr', '0')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f'{image}: 100 person(s) >= 0' in proc.stdout
    assert os.listdir(tmp_path / 'drawn') == [osp.splitext(image)[0] + '.png']


DOC = osp.join(REPO, 'docs', 'deployment.md')


def _doc_example() -> str:
    """The dependency-free example of docs/deployment.md (the block after its marker)."""
    with open(DOC) as f:
        text = f.read()
    found = re.search(r'<!-- example: centernet_onnx_demo.py -->\s*```python\n(.*?)```', text,
                      re.S)
    assert found, 'docs/deployment.md lost its marked example'
    return found.group(1)


@pytest.mark.golden
def test_docs_example_runs_without_mmcenternet(golden, tmp_path):
    import cv2
    g = golden('dla_34_ctdet')
    script = tmp_path / 'centernet_onnx_demo.py'
    script.write_text(_doc_example())
    img = str(tmp_path / 'img.npy')
    first = load_json('e2e', 'annotations_e2e.json')['images'][0]
    np.save(img, cv2.imread(golden_path('e2e', first['file_name'])))
    # run as a user without mmcenternet, torch or OpenCV would: importing them fails
    blocked = ('torch', 'mmcenternet', 'mmcv', 'mmdet', 'mmengine', 'mmpose', 'cv2', 'PIL')
    runner = ('import sys\n'
              f'for m in {blocked!r}: sys.modules[m] = None\n'
              f'sys.argv = ["centernet_onnx_demo.py", {g["onnx"]!r}, {img!r}, '
              '"--score-thr", "0"]\n'
              f'exec(compile(open({str(script)!r}).read(), "demo", "exec"), '
              '{"__name__": "__main__"})\n')
    proc = subprocess.run([sys.executable, '-c', runner], capture_output=True, text=True,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = np.array([[float(v) for v in line.split()] for line in proc.stdout.splitlines()])
    assert rows.shape == (100, 6)
    cat_ids = [c['id'] for c in load_json('e2e', 'annotations_e2e.json')['categories']]
    rows = np.concatenate([np.array([cat_ids[int(c)] for c in rows[:, 0]])[:, None],
                           rows[:, 2:6], rows[:, 1:2]], 1)
    ref = load_npz('e2e', 'results_dla_34_ctdet_noaug.npz')[f'img{first["id"]}']
    assert match(ref, rows) >= 0.99 * len(ref)
