# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original ``multi_pose`` multi-scale test through mmengine's TTA mechanism."""
from typing import List, Optional, Sequence

import numpy as np
from mmengine.model import BaseTTAModel
from mmengine.structures import InstanceData

from mmcenternet.registry import POSE_MODELS
from .soft_nms_39 import merge_multi_pose_outputs

__all__ = ['CenterNetPoseTTAModel']


@POSE_MODELS.register_module()
class CenterNetPoseTTAModel(BaseTTAModel):
    """Multi-scale test of CenterNet ``multi_pose``, merged as the original's ``merge_outputs``.

    Every scale (a ``CenterNetTestResize`` view) runs through the estimator's own test step
    (with its flip test, ``model.test_cfg.flip_test``) and is mapped back to the image. The
    person rows of all scales are concatenated in scale order and, with more than one scale
    (or ``nms_single_scale``), re-scored in place by the original's ``soft_nms_39``; every row
    is kept, stale rows included, and no score cut follows, exactly as the original.

    Args:
        module: The pose estimator config.
        soft_nms: ``sigma`` (0.5), ``iou_threshold`` (0.5, linear / hard only), ``min_score``
            (0.001) and ``method`` (``'gaussian'``).
        nms_single_scale: Apply soft-NMS with a single scale too (the original's ``--nms``).
    """

    def __init__(self,
                 module: dict,
                 soft_nms: Optional[dict] = None,
                 nms_single_scale: bool = False,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        cfg = dict(sigma=0.5, iou_threshold=0.5, min_score=0.001, method='gaussian')
        cfg.update(soft_nms or {})
        self.soft_nms_cfg = cfg
        self.nms_single_scale = nms_single_scale

    def merge_preds(self, data_samples_list: Sequence[Sequence]) -> List:
        """Args:
            data_samples_list: Per image, the ``PoseDataSample`` of each view (scale order).

        Returns:
            One ``PoseDataSample`` per image: ``keypoints`` (N, K, 2), ``bboxes`` (N, 4),
            ``bbox_scores`` (N, ), ``keypoint_scores`` / ``keypoints_visible`` (N, K) all 1,
            N = the sum of the views' persons.
        """
        cfg = self.soft_nms_cfg
        merged = []
        for views in data_samples_list:
            if not views:
                raise ValueError('CenterNetPoseTTAModel received no test views (no scales '
                                 'configured)')
            rows = [self._rows(v.pred_instances) for v in views]
            num_joints = (rows[0].shape[1] - 5) // 2
            out = merge_multi_pose_outputs(
                rows, run_nms=len(rows) > 1 or self.nms_single_scale, sigma=cfg['sigma'],
                nt=cfg['iou_threshold'], threshold=cfg['min_score'], method=cfg['method'])
            pred = InstanceData()
            pred.bboxes = out[:, :4]
            pred.bbox_scores = out[:, 4]
            pred.keypoints = out[:, 5:].reshape(-1, num_joints, 2)
            pred.keypoint_scores = np.ones((len(out), num_joints), np.float32)
            pred.keypoints_visible = pred.keypoint_scores
            sample = views[0]
            sample.pred_instances = pred
            merged.append(sample)
        return merged

    @staticmethod
    def _rows(pred: InstanceData) -> np.ndarray:
        """(N, 5 + 2K) float32 rows ``[x1, y1, x2, y2, score, x_0, y_0, ...]`` of one view."""
        keypoints = np.asarray(pred.keypoints, dtype=np.float32)
        n = len(keypoints)
        return np.concatenate([
            np.asarray(pred.bboxes, dtype=np.float32).reshape(n, 4),
            np.asarray(pred.bbox_scores, dtype=np.float32).reshape(n, 1),
            keypoints.reshape(n, -1)
        ], 1)
