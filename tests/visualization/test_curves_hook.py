# Copyright (c) mmcenternet contributors. All rights reserved.
import logging
from types import SimpleNamespace

import cv2
import torch

from mmcenternet.visualization import CenterNetCurvesHook


def test_curves_png_after_validation_and_training(tmp_path):
    hook = CenterNetCurvesHook()
    runner = SimpleNamespace(work_dir=str(tmp_path), iter=0, epoch=0,
                             cfg=SimpleNamespace(filename='demo_config.py'),
                             logger=logging.getLogger('test_curves'))
    for epoch in range(1, 4):
        for _ in range(5):
            loss = torch.tensor(3.0 / (runner.iter + 1), requires_grad=True)
            hook.after_train_iter(runner, 0, outputs=dict(loss=loss, loss_heatmap=loss * 0.7,
                                                          acc=torch.tensor(1.0)))
            runner.iter += 1
        runner.epoch = epoch
        hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.2 * epoch,
                                      'coco/bbox_mAP_50': 0.3 * epoch,
                                      'coco/bbox_mAP_s': 0.1, 'coco/bbox_mAP_l': -1.0})
    hook.after_train(runner)
    assert sorted(hook.losses) == ['loss', 'loss_heatmap']  # losses only
    assert sorted(hook.metrics) == ['coco/bbox_mAP', 'coco/bbox_mAP_50']
    assert hook.metrics['coco/bbox_mAP'][-1] == (3, 0.6000000000000001)
    img = cv2.imread(str(tmp_path / 'curves.png'))
    assert img is not None and img.shape[1] > 600
    assert not list(tmp_path.glob('*.tmp*'))  # written atomically
