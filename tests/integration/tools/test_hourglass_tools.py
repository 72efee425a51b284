# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/train.py`` and ``tools/test.py`` with the ctdet Hourglass-104 config on the generated
shapes data, through a user config that inherits it (docs/custom_dataset.md): one training
iteration, its checkpoint, then the keep_res test on 128-multiple canvases with the AP table."""
import os
import os.path as osp
import pickle

import pytest
import torch
from golden import REPO, run_tool

from mmcenternet.utils.synthetic.shapes import make_shapes_dataset

USER_CONFIG = """\
_base_ = '{repo}/configs/centernet/hourglass104_coco.py'
classes = ('rectangle', 'ellipse', 'triangle', 'cross')
model = dict(bbox_head=dict(num_classes=len(classes)))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(
    data_root='{root}/', metainfo=dict(classes=classes), ann_file='annotations/train.json',
    data_prefix=dict(img='train/')))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
    data_root='{root}/', metainfo=dict(classes=classes), ann_file='annotations/val.json',
    data_prefix=dict(img='val/')))
test_evaluator = dict(ann_file='{root}/annotations/val.json')
load_from = None
"""


@pytest.mark.slow
def test_train_and_test_hourglass_config(tmp_path):
    root = str(tmp_path / 'shapes')
    make_shapes_dataset(root, num_images=2, img_size=(160, 120), seed=5, split='train',
                        empty_fraction=0.0)
    make_shapes_dataset(root, num_images=2, img_size=(150, 100), seed=6, split='val')
    config = str(tmp_path / 'hourglass104_shapes.py')
    with open(config, 'w') as f:
        f.write(USER_CONFIG.format(repo=REPO, root=root))
    work = str(tmp_path / 'work')
    log = run_tool(
        'tools/train.py', config, '--no-validate', '--work-dir', work, '--cfg-options',
        'train_dataloader.dataset.pipeline.2.input_size=(128,128)', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.save_optimizer=False',
        'default_hooks.checkpoint.save_last=False'
    )
    for term in ('loss_heatmap', 'loss_wh', 'loss_offset'):
        assert term in log
    assert 'Epoch(train) [1][1/1]' in log
    ckpt = osp.join(work, 'epoch_1.pth')
    heads = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert 'bbox_head.head_module.hm.1.2.bias' in heads  # both stacks were trained and saved
    del heads
    out = str(tmp_path / 'results.pkl')
    log = run_tool('tools/test.py', config, ckpt, '--work-dir', str(tmp_path / 'test'), '--out',
                   out)
    assert 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]' in log
    with open(out, 'rb') as f:
        samples = pickle.load(f)
    # the canvas of a 150 x 100 image is 256 x 128 (multiples of 128), predictions in image pixels
    assert [tuple(s['batch_input_shape']) for s in samples] == [(128, 256)] * 2
    assert all(len(s['pred_instances']['bboxes']) == 100 for s in samples)
    os.remove(ckpt)  # 770 MB


@pytest.mark.slow
def test_training_benchmark_times_the_hourglass_config():
    """tools/analysis_tools/benchmark_train.py --config (docs/hourglass.md), tiny settings."""
    log = run_tool(
        'tools/analysis_tools/benchmark_train.py', '--size', '128', '--batch', '2', '--repeats',
        '1', '--warmup', '0', '--target-batch', '2', '--device', 'cpu', '--config',
        'configs/centernet/hourglass104_coco.py'
    )
    assert '(a) one training iteration, batch 2 x 128x128, cpu' in log
    for model in ('mmcenternet resdcn18 (original recipe)', 'mmdet centernet_r18-dcnv2',
                  'hourglass104_coco'):
        assert model in log
    import re
    row = re.search(r'hourglass104_coco +([\d.]+) +([\d.]+) +([\d.]+) \(kept tensors\)', log)
    assert row, log[-2000:]
    # weights + gradients + two Adam moments of 191 M float parameters alone are 2.85 GiB
    assert float(row.group(3)) > 2.85
    assert '(b) target generation, batch 2' in log
