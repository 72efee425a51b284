# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/test.py --show-dir`` for pose configs: the test predictions drawn into PNG files."""
import math
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmcenternet.visualization.pose_drawing import draw_pose

__all__ = ['CenterNetPoseDrawHook']


@HOOKS.register_module()
class CenterNetPoseDrawHook(Hook):
    """Draw every test image's persons (box, score, skeleton, joints) into a PNG file.

    mmpose's ``PoseVisualizationHook`` needs mmpose's visualizer, which imports torchvision;
    this hook draws with OpenCV (:func:`~mmcenternet.visualization.draw_pose`) instead. Files go
    to ``<work_dir>/<timestamp>/<out_dir>/<image name>.png``; the predictions are not changed.

    Args:
        out_dir: Sub-folder of the run's log folder.
        score_thr: Smallest person score drawn.
        draw_size: Small images are enlarged by a whole factor until their longer side reaches
            this many pixels (0: never).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, score_thr: float = 0.3, draw_size: int = 480) -> None:
        self.out_dir = out_dir
        self.score_thr = score_thr
        self.draw_size = draw_size
        self._folder: Optional[str] = None

    def before_test(self, runner) -> None:
        self._folder = osp.join(runner.log_dir, self.out_dir)
        os.makedirs(self._folder, exist_ok=True)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        meta = runner.test_dataloader.dataset.metainfo
        for sample in outputs or ():
            path = sample.metainfo.get('img_path')
            img = cv2.imread(path, cv2.IMREAD_COLOR) if path else None
            if img is None:
                raise FileNotFoundError(f'{type(self).__name__}: cannot read image {path}')
            h, w = img.shape[:2]
            scale = max(int(math.ceil(self.draw_size / max(h, w))), 1) if self.draw_size else 1
            drawn = draw_pose(img, sample.pred_instances, self.score_thr, meta=meta, scale=scale)
            name = osp.splitext(osp.basename(path))[0] + '.png'
            cv2.imwrite(osp.join(self._folder, name), drawn)

    def after_test(self, runner) -> None:
        runner.logger.info(f'drawn test images: {self._folder}')
