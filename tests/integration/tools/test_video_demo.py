# Copyright (c) mmcenternet contributors. All rights reserved.
"""tools/misc/video_demo.py on a short generated video: every frame detected, drawn and written,
the frame rate printed; unreadable inputs named in one line."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

CONFIG = 'configs/demo/ctdet_r18_shapes.py'


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    base = tmp_path_factory.mktemp('video')
    path = str(base / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10, (160, 128))
    assert writer.isOpened()
    for t in range(6):  # a square moving right over a grey background
        frame = np.full((128, 160, 3), 90, np.uint8)
        cv2.rectangle(frame, (20 + 10 * t, 40), (60 + 10 * t, 80), (30, 200, 240), -1)
        writer.write(frame)
    writer.release()
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    ckpt = str(base / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return dict(base=base, video=path, ckpt=ckpt)


def _run(*args):
    return subprocess.run([sys.executable, 'tools/misc/video_demo.py', *args], cwd=REPO,
                          capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))


def test_video_in_drawn_video_out(clip):
    out = str(clip['base'] / 'drawn.mp4')
    proc = _run(clip['video'], CONFIG, clip['ckpt'], '--out', out, '--score-thr', '0.1')
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert '6 frames in' in proc.stdout and 'FPS' in proc.stdout
    cap = cv2.VideoCapture(out)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 6 and frames[0].shape == (128, 160, 3)
    # the frame rate is written on every frame (white text in the top-left corner)
    assert (frames[0][8:24, 8:60] > 200).all(axis=-1).any()


def test_bad_inputs_are_named(clip):
    proc = _run(str(clip['base'] / 'missing.avi'), CONFIG, clip['ckpt'], '--out', 'x.mp4')
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith('error: video file not found:')
    text = clip['base'] / 'not_a_video.avi'
    text.write_text('hello')
    proc = _run(str(text), CONFIG, clip['ckpt'], '--out', str(clip['base'] / 'y.mp4'))
    assert proc.returncode == 2
    assert 'error: cannot open video' in proc.stderr.strip().splitlines()[-1]
    proc = _run(clip['video'], CONFIG, clip['ckpt'])
    assert proc.returncode == 2 and '--out FILE and / or --show' in proc.stderr
