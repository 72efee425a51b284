# Copyright (c) mmcenternet contributors. All rights reserved.
"""Config checks before a run: the head's stride against the transforms' down_ratio."""
import os.path as osp
import subprocess
import sys

import pytest
from golden import REPO
from mmengine.config import Config

from mmcenternet.utils.config_checks import check_stride_matches, config_classes
from mmcenternet.utils.errors import UserError

CONFIG = osp.join(REPO, 'configs', 'demo', 'ctdet_r18_shapes.py')
POSE = osp.join(REPO, 'configs', 'centernet_pose', 'dla34_1x_coco.py')


@pytest.mark.parametrize('path', [CONFIG, POSE])
def test_matching_values_pass(path):
    check_stride_matches(Config.fromfile(path))


def test_a_mismatch_names_both_values():
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.pipeline[2].down_ratio = 8
    with pytest.raises(UserError, match=r'train_dataloader\.dataset\.pipeline\[2\] '
                       r'\(CenterNetRandomAffine\) has down_ratio=8 but '
                       r'model\.bbox_head\.stride=4'):
        check_stride_matches(cfg)
    cfg = Config.fromfile(POSE)
    cfg.model.head.stride = 2
    with pytest.raises(UserError, match=r'down_ratio=4 but model\.head\.stride=2'):
        check_stride_matches(cfg)


def test_train_tool_stops_on_a_mismatch(tmp_path):
    proc = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path),
                           '--cfg-options', 'model.bbox_head.stride=8'], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'down_ratio=4 but model.bbox_head.stride=8' in proc.stderr.strip().splitlines()[-1]


def test_class_names_of_the_config():
    assert config_classes(Config.fromfile(CONFIG)) == ('rectangle', 'ellipse', 'triangle',
                                                       'cross')
