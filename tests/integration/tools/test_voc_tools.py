# Copyright (c) mmcenternet contributors. All rights reserved.
"""The Pascal VOC path in CI: a ctdet_pascal config trains (a few iterations) and tests on a
generated VOC-layout dataset (XML annotations, image-set lists), reporting the VOC 2007 mAP;
bad VOC files are named in one line."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from golden import REPO

from mmcenternet.utils.synthetic.voc import make_voc_dataset

CONFIG = 'configs/centernet_pascal/resdcn18_384_voc.py'


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))


def _options(root, batch=2):
    opts = ['model.backbone.init_cfg=None', f'train_dataloader.batch_size={batch}',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            f'test_dataloader.dataset.data_root={root}/',
            f'val_dataloader.dataset.data_root={root}/']
    opts += [f'train_dataloader.dataset.datasets.{i}.data_root={root}/' for i in range(2)]
    return ['--cfg-options', *opts]


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    return make_voc_dataset(str(tmp_path_factory.mktemp('voc') / 'VOCdevkit'), 4, 4)


@pytest.mark.slow
def test_pascal_config_trains_and_reports_voc_map(voc, tmp_path):
    work = str(tmp_path / 'work')
    proc = _run('tools/train.py', CONFIG, '--work-dir', work, '--no-validate',
                *_options(voc), 'train_cfg.max_epochs=1')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Epoch(train) [1][4/4]' in proc.stdout + proc.stderr  # 8 images (two years) / 2
    proc = _run('tools/test.py', CONFIG, osp.join(work, 'epoch_1.pth'), '--work-dir', work,
                *_options(voc))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert re.search(r'pascal_voc/mAP: [\d.]+', log), log[-2000:]
    assert 'AP50' in log or 'ap' in log  # the per-class table


def test_bad_voc_files_are_named(voc, tmp_path):
    import shutil
    root = str(tmp_path / 'VOCdevkit')
    shutil.copytree(voc, root)
    xml = osp.join(root, 'VOC2007', 'Annotations')
    first = sorted(f for f in os.listdir(xml) if 'trainval' in f)[0]
    with open(osp.join(xml, first), 'w') as f:
        f.write('<annotation><object><name>boat</name>')  # truncated
    proc = _run('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'), '--no-validate',
                *_options(root))
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and first in last and 'not a valid XML file' in last
    with open(osp.join(xml, first), 'w') as f:  # a class that is not one of VOC's 20
        f.write('<annotation><size><width>9</width><height>9</height></size><object><name>'
                'boot</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>'
                '</bndbox></object></annotation>')
    proc = _run('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'), '--no-validate',
                *_options(root))
    assert proc.returncode == 2
    assert "an object named 'boot', not one of the classes" in proc.stderr.strip().splitlines()[-1]
