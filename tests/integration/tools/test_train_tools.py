# Copyright (c) mmcenternet contributors. All rights reserved.
"""tools/train.py, --resume and tools/dist_train.sh on generated data (CPU)."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from golden import REPO

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes'))
    make_shapes_dataset(root, num_images=16, img_size=(96, 80), seed=3, split='train')
    make_shapes_dataset(root, num_images=4, img_size=(96, 80), seed=4, split='val')
    return root


def tiny_options(root: str, work_dir: str, epochs: int = 2):
    return [
        '--work-dir', work_dir, '--cfg-options',
        f'train_dataloader.dataset.data_root={root}/', f'val_dataloader.dataset.data_root={root}/',
        f'test_dataloader.dataset.data_root={root}/',
        f'val_evaluator.ann_file={root}/annotations/val.json',
        f'test_evaluator.ann_file={root}/annotations/val.json',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.dataset.pipeline.2.input_size=(64,64)',
        f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=5',
        # a drop after the first epoch, so that resuming must restore the scheduler
        'param_scheduler.0.milestones=[1]', 'param_scheduler.0.end=10'
    ]


def run(cmd, env=None):
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=full_env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.mark.slow
def test_train_checkpoint_and_resume(tiny_data, tmp_path):
    wd = str(tmp_path / 'run')
    run([sys.executable, 'tools/train.py', CONFIG, *tiny_options(tiny_data, wd, epochs=2)])
    first, second = load(osp.join(wd, 'epoch_1.pth')), load(osp.join(wd, 'epoch_2.pth'))
    assert (first['meta']['epoch'], first['meta']['iter']) == (1, 4)
    assert (second['meta']['epoch'], second['meta']['iter']) == (2, 8)
    lr_after = second['optimizer']['param_groups'][0]['lr']
    assert lr_after == pytest.approx(1e-4)  # 1e-3 dropped after epoch 1

    # Resume from epoch 1 in a fresh work dir: continues at iteration 4 with the same schedule.
    wd2 = str(tmp_path / 'resumed')
    proc = run([sys.executable, 'tools/train.py', CONFIG, '--resume',
                osp.join(wd, 'epoch_1.pth'), *tiny_options(tiny_data, wd2, epochs=2)])
    assert 'resumed epoch: 1, iter: 4' in proc.stdout + proc.stderr
    resumed = load(osp.join(wd2, 'epoch_2.pth'))
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (2, 8)
    assert resumed['optimizer']['param_groups'][0]['lr'] == pytest.approx(lr_after)
    assert not osp.exists(osp.join(wd2, 'epoch_1.pth'))

    # --resume without a path picks the newest checkpoint of the work dir.
    proc = run([sys.executable, 'tools/train.py', CONFIG, '--resume',
                *tiny_options(tiny_data, wd, epochs=3)])
    assert 'resumed epoch: 2, iter: 8' in proc.stdout + proc.stderr
    assert load(osp.join(wd, 'epoch_3.pth'))['meta']['iter'] == 12


@pytest.mark.slow
def test_dist_train_two_cpu_processes(tiny_data, tmp_path):
    wd = str(tmp_path / 'dist')
    run(['bash', 'tools/dist_train.sh', CONFIG, '2', *tiny_options(tiny_data, wd, epochs=1)],
        env=dict(PYTHON=sys.executable, PORT='29613'))
    ckpt = load(osp.join(wd, 'epoch_1.pth'))
    # 16 images, 2 processes x batch 4: 2 iterations per epoch
    assert ckpt['meta']['iter'] == 2


def test_bad_inputs_give_one_line_errors(tiny_data, tmp_path):
    cases = [
        (['tools/train.py', 'configs/nope.py'], 'config file not found'),
        (['tools/train.py', CONFIG, '--cfg-options', 'model.backbone.type=ResNett'],
         "'ResNett' is not a registered type (did you mean ResNet"),
        (['tools/train.py', CONFIG, '--cfg-options', 'train_dataloader.dataset.data_root=/nope/'],
         'data_root: folder not found: /nope/'),
        (['tools/test.py', CONFIG, str(tmp_path / 'missing.pth'), '--cfg-options',
          f'test_dataloader.dataset.data_root={tiny_data}/'], 'checkpoint file not found'),
    ]
    for args, message in cases:
        proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert message in proc.stderr
        assert 'Traceback' not in proc.stderr
