# Copyright (c) mmcenternet contributors. All rights reserved.
"""What the ONNX tests share: the golden networks' configs, their converted checkpoints and
``--dynamic`` exports (built once per module), onnxruntime sessions and the e2e options."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from golden import REPO, golden_path, load_npz, match_rows, write_original_checkpoint

from mmcenternet.utils.convert_official import convert_checkpoint

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_onnx  # noqa: E402

NETS = {
    'dla_34_ctdet': 'configs/centernet/dla34_1x_coco.py',
    'resdcn_18_ctdet': 'configs/centernet/resdcn18_1x_coco.py',
    'resdcn_101_ctdet': 'configs/centernet/resdcn101_1x_coco.py',
    'hourglass_ctdet': 'configs/centernet/hourglass104_coco.py',
    'dla_34_multi_pose': 'configs/centernet_pose/dla34_1x_coco.py',
    'dla_34_exdet': 'configs/centernet_exdet/dla34_coco.py',
}
DEFORM_CONVS = {'dla_34_ctdet': 16, 'resdcn_18_ctdet': 3, 'resdcn_101_ctdet': 3,
                'hourglass_ctdet': 0, 'dla_34_multi_pose': 16, 'dla_34_exdet': 16}
STANDARD = ('', 'ai.onnx')
CPU = ['CPUExecutionProvider']


def config_path(stem: str) -> str:
    path = osp.join(REPO, NETS[stem])
    if not osp.isfile(path):
        pytest.skip(f'{NETS[stem]} is not in this checkout')
    return path


@pytest.fixture(scope='module')
def golden(tmp_path_factory):
    """Per network, built once: converted golden checkpoint and its ``--dynamic`` export."""
    folder = tmp_path_factory.mktemp('onnx')
    cache = {}

    def get(stem: str) -> dict:
        if stem not in cache:
            z = load_npz('nets', f'{stem}.npz')
            src, ckpt = str(folder / f'{stem}_orig.pth'), str(folder / f'{stem}.pth')
            write_original_checkpoint(stem, src, seed=int(z['weight_seed']))
            convert_checkpoint(src, ckpt)
            out = str(folder / f'{stem}.onnx')
            res = export_onnx(config_path(stem), ckpt, out, shape=z['input'].shape[2:],
                              dynamic=True)
            cache[stem] = dict(z=z, ckpt=ckpt, onnx=out, result=res)
        return cache[stem]

    return get


def open_model(path_or_proto):
    data = path_or_proto if isinstance(path_or_proto, str) else \
        path_or_proto.SerializeToString()
    return ort.InferenceSession(data, providers=CPU)


def e2e_options(ann_file=None):
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    ann = ann_file or f'{e2e}/annotations_e2e.json'
    return ['--cfg-options', f'test_dataloader.dataset.data_root={e2e}/',
            f'test_dataloader.dataset.ann_file={ann}', 'test_dataloader.dataset.data_prefix.img=',
            f'test_evaluator.ann_file={ann}', 'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']


def run(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True)


def match(ref: np.ndarray, pred: np.ndarray) -> int:
    """Rows ``[class, x1, y1, x2, y2, score, ...]`` matched by the README section 11 rule."""
    coords = [i for i in range(1, ref.shape[1]) if i != 5]
    return match_rows(ref, pred, coords, 5, 0)
