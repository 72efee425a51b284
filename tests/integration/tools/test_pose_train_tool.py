# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/train.py`` with the pose config on a tiny synthetic keypoint set (one epoch of
64x64 inputs): the mmengine training path as a user runs it. (Evaluation through the runner is
covered by test_pose_e2e.py.)"""
import os.path as osp
import subprocess
import sys

import pytest
from golden import REPO
from pose_common import write_keypoint_set

CONFIG = osp.join(REPO, 'configs', 'centernet_pose', 'dla34_1x_coco.py')


@pytest.mark.slow
def test_train_one_epoch_with_the_pose_config(tmp_path):
    root = str(tmp_path)
    write_keypoint_set(root)
    cmd = [
        sys.executable, 'tools/train.py', CONFIG, '--no-validate', '--work-dir',
        osp.join(root, 'work'), '--cfg-options', 'load_from=None',
        f'train_dataloader.dataset.data_root={root}/', 'train_dataloader.dataset.ann_file=kp.json',
        'train_dataloader.dataset.data_prefix.img=', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.1.input_size=(64,64)', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.save_last=False'
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    for term in ('loss_heatmap', 'loss_wh', 'loss_offset', 'loss_hps', 'loss_hm_hp',
                 'loss_hp_offset'):
        assert term in log
    assert '3 images, 4 person annotations' in log  # training: annotated images, crowd kept
    assert 'Epoch(train) [1][1/1]' in log  # one batch of 2 (3 images, drop_last)
