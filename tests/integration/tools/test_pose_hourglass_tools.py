# Copyright (c) mmcenternet contributors. All rights reserved.
"""tools/train.py and tools/test.py run the multi_pose Hourglass-104 configs for one iteration."""
import os
import os.path as osp

import pytest
from golden import REPO, run_tool
from pose_common import write_keypoint_set


CONFIGS = {
    '1x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_1x_coco.py'),
    '3x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_3x_coco.py'),
}


@pytest.mark.slow
@pytest.mark.parametrize('name', ['1x', '3x'])
def test_train_and_test_tools_run_the_config(name, tmp_path):
    """One training iteration (128 x 128 crops), its checkpoint, then the flip test and the
    keypoint AP."""
    root = str(tmp_path)
    write_keypoint_set(root)
    work = osp.join(root, 'work')
    data = [
        f'train_dataloader.dataset.data_root={root}/', 'train_dataloader.dataset.ann_file=kp.json',
        'train_dataloader.dataset.data_prefix.img=', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_dataloader.batch_size=2',
        f'test_dataloader.dataset.data_root={root}/', 'test_dataloader.dataset.ann_file=kp.json',
        'test_dataloader.dataset.data_prefix.img=', f'test_evaluator.ann_file={root}/kp.json',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'
    ]
    log = run_tool(
        'tools/train.py', CONFIGS[name], '--no-validate', '--work-dir', work, '--cfg-options',
        'load_from=None', *data, 'train_dataloader.dataset.pipeline.1.input_size=(128,128)',
        'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.save_optimizer=False', 'default_hooks.checkpoint.save_last=False'
    )
    for term in ('loss_heatmap', 'loss_wh', 'loss_offset', 'loss_hps', 'loss_hm_hp',
                 'loss_hp_offset'):
        assert term in log
    assert 'Epoch(train) [1][1/1]' in log  # one batch of 2 (3 annotated images, drop_last)
    ckpt = osp.join(work, 'epoch_1.pth')
    log = run_tool('tools/test.py', CONFIGS[name], ckpt, '--work-dir', osp.join(root, 'test'),
                   '--cfg-options', *data)
    assert 'coco/AP' in log  # flip test on 128-multiple canvases, then mmpose's keypoint AP
    os.remove(ckpt)  # 780 MB
