# Copyright (c) mmcenternet contributors. All rights reserved.
"""A custom keypoint set end to end: configs/demo/pose_r18_stars5.py (5 joints, flip pairs and
skeleton from the dataset's metainfo file) trained with flips on generated figures and tested
with the flip test through tools/train.py and tools/test.py; bad keypoint descriptions are
named in one line."""
import os
import re
import subprocess
import sys

import pytest
from golden import REPO

from mmcenternet.utils.synthetic.keypoints import STAR5, make_stick_figures_dataset

CONFIG = 'configs/demo/pose_r18_stars5.py'
#: Measured on the project's 2-core machine: keypoint AP 0.61 on the 16 training images after the
#: config's 60 epochs (1.7 min; with 32 images, 0.23 on 16 held-out images).
MIN_AP = 0.4


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('stars5'))
    make_stick_figures_dataset(root, 16, joint_set=STAR5)
    make_stick_figures_dataset(root, 16, seed=1, split='val', joint_set=STAR5)
    return root


@pytest.mark.slow
def test_five_joints_train_and_test(data, tmp_path):
    # tested on the training images, as tests/integration/learning/test_pose_learns.py: the
    # point is that a 5-joint set with its own flip pairs learns, not how far 32 images carry
    train_ann = 'annotations/person_keypoints_train.json'
    options = ['--cfg-options', f'train_dataloader.dataset.data_root={data}/',
               f'test_dataloader.dataset.data_root={data}/',
               f'test_dataloader.dataset.ann_file={train_ann}',
               'test_dataloader.dataset.data_prefix.img=train/',
               f'test_evaluator.ann_file={data}/{train_ann}']
    work = str(tmp_path / 'work')
    proc = _run('tools/train.py', CONFIG, '--work-dir', work, '--no-validate', *options)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = _run('tools/test.py', CONFIG, f'{work}/epoch_60.pth', '--work-dir', work, *options)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    ap = float(re.search(r'coco/AP: ([\d.]+)', log).group(1))
    assert ap >= MIN_AP, log[-2000:]


def test_bad_keypoint_descriptions_are_named(data, tmp_path):
    meta = tmp_path / 'bad_metainfo.py'
    source = open(f'{REPO}/configs/_base_/datasets/stars5_metainfo.py').read()
    meta.write_text(source.replace("swap='right_hand'", "swap='right_paw'"))
    proc = _run('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                f'train_dataloader.dataset.data_root={data}/',
                f'train_dataloader.dataset.metainfo.from_file={meta}', 'train_cfg.max_epochs=1',
                '--no-validate')
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: {meta}: a keypoint's swap names 'right_paw', which is not one of its keypoint "
        'names')
    # the head's joint count must be the metainfo's
    from mmcenternet.models.dense_heads import CenterNetPoseHead
    with pytest.raises(ValueError, match='names joint 7, which does not exist'):
        CenterNetPoseHead(in_channels=4, num_keypoints=5, head_conv=4,
                          flip_indices=[0, 2, 1, 4, 7])
    with pytest.raises(ValueError, match='has 17 entries, the head predicts 5 keypoints'):
        CenterNetPoseHead(in_channels=4, num_keypoints=5, head_conv=4,
                          flip_indices=list(range(17)))
