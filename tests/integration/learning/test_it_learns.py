# Copyright (c) mmcenternet contributors. All rights reserved.
"""It learns: CenterNet trained on a handful of generated images reaches a stated bbox AP.

A tiny configuration (the demo network from scratch, no crop, scale or colour augmentation) trains
with ``tools/train.py`` on 16 generated 96x96 shape images for 150 epochs of 4 images (600
iterations, Adam 2e-3 after a 50-iteration warm-up) on the CPU and is then evaluated on the same
images. A wrong heatmap, size or offset target, or a broken loss, keeps the AP near 0.

Threshold: bbox AP >= 0.2 (IoU 0.50:0.95) and AP50 >= 0.4 on the training images.
Measured on the project's 2-core machine: AP 0.360, AP50 0.627 (126 s with other jobs running).
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from golden import REPO

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset

MIN_AP, MIN_AP50 = 0.2, 0.4

TINY_CONFIG = """
_base_ = ['{repo}/configs/demo/ctdet_r18_shapes.py']
data_root = '{root}/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    # no crop, shift or scale: the network sees each whole image (mirrored half of the time)
    dict(type='CenterNetRandomAffine', input_size=(96, 96), down_ratio=4, random_crop=False,
         shift=0.0, scale=0.0, flip_prob=0.5),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'homography_matrix')),
]
train_dataloader = dict(
    batch_size={batch}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
# evaluated on the training images: the test asks whether it can fit them at all
val_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='annotations/train.json',
                 data_prefix=dict(img='train/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/train.json')
test_evaluator = val_evaluator
max_epochs = {epochs}
optim_wrapper = dict(optimizer=dict(lr={lr}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end={warmup}),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[{m1}, {m2}], gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))
"""

# Settings of the run (see TINY_CONFIG): 16 images, EPOCHS epochs of BATCH images.
EPOCHS, BATCH, LR, WARMUP = 150, 4, 2e-3, 50


@pytest.mark.slow
def test_it_learns(tmp_path):
    root = str(tmp_path / 'data')
    make_shapes_dataset(root, num_images=16, img_size=(96, 96), seed=0, split='train')
    config = tmp_path / 'tiny_shapes.py'
    config.write_text(TINY_CONFIG.format(
        repo=REPO, root=root, epochs=EPOCHS, batch=BATCH, lr=LR, warmup=WARMUP,
        m1=int(EPOCHS * 0.75), m2=int(EPOCHS * 0.9)))
    work_dir = str(tmp_path / 'work')
    # one thread: as fast as two for this tiny network, and robust on a busy machine
    proc = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', work_dir],
                          cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert scalars, proc.stdout[-2000:]
    with open(scalars[0]) as f:
        final = [json.loads(line) for line in f if 'coco/bbox_mAP' in line][-1]
    ap, ap50 = final['coco/bbox_mAP'], final['coco/bbox_mAP_50']
    print(f'learned: bbox AP {ap:.3f}, AP50 {ap50:.3f} after {EPOCHS} epochs')
    assert ap >= MIN_AP and ap50 >= MIN_AP50, (ap, ap50)
