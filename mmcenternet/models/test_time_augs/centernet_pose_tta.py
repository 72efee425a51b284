# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original ``multi_pose`` multi-scale test through mmengine's TTA mechanism."""
from typing import List, Optional, Sequence

from mmengine.model import BaseTTAModel

from mmcenternet.registry import POSE_MODELS
from ..utils.soft_nms import soft_nms_settings

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
            (0.001) and ``method`` (``'gaussian'``): the original's ``soft_nms_39`` settings,
            :data:`~mmcenternet.models.utils.soft_nms.SOFT_NMS_DEFAULTS`.
        nms_single_scale: Apply soft-NMS with a single scale too (the original's ``--nms``).
    """

    def __init__(self,
                 module: dict,
                 soft_nms: Optional[dict] = None,
                 nms_single_scale: bool = False,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self.soft_nms_cfg = soft_nms_settings(soft_nms)
        self.nms_single_scale = nms_single_scale

    def merge_preds(self, data_samples_list: Sequence[Sequence]) -> List:
        """Args:
            data_samples_list: Per image, the ``PoseDataSample`` of each view (scale order).

        Returns:
            One ``PoseDataSample`` per image: ``keypoints`` (N, K, 2), ``bboxes`` (N, 4),
            ``bbox_scores`` (N, ), ``keypoint_scores`` / ``keypoints_visible`` (N, K) all 1,
            N = the sum of the views' persons.
        """
        head = self.module.head
        merged = []
        for views in data_samples_list:
            if not views:
                raise ValueError('CenterNetPoseTTAModel received no test views (no scales '
                                 'configured)')
            sample = views[0]
            sample.pred_instances = head.tta_merge([v.pred_instances for v in views],
                                                   self.soft_nms_cfg,
                                                   nms_single_scale=self.nms_single_scale)
            merged.append(sample)
        return merged
