# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's flip and multi-scale test as an mmengine TTA model (ctdet and exdet)."""
from typing import Dict, List, Optional

import torch
from mmdet.structures import DetDataSample
from mmengine.model import BaseTTAModel
from torch import Tensor

from mmcenternet.registry import DET_MODELS
from ..utils.flip import merge_flip_maps, split_flip_batch
from ..utils.soft_nms import soft_nms_settings

__all__ = ['CenterNetTTAModel', 'merge_flip']


def merge_flip(maps: Dict[str, Tensor], batch: int) -> Dict[str, Tensor]:
    """Deprecated: average a ``[views; mirrored views]`` batch of ctdet maps as the original does
    (:func:`~mmcenternet.models.utils.flip.merge_flip_maps` with the ctdet head's rules)."""
    from ..dense_heads.centernet_det_head import CenterNetDetHead
    return merge_flip_maps(*split_flip_batch(maps, batch), CenterNetDetHead.FLIP_RULES)


@DET_MODELS.register_module()
class CenterNetTTAModel(BaseTTAModel):
    """Flip and multi-scale test of CenterNet detection heads.

    For every view (scale) the head predicts the batch with its mirror
    (``head.tta_predict_view``: ctdet merges the maps before decoding, exdet decodes both views
    and post-processes them as the original does); then the head merges the views of each image
    (``head.tta_merge``: the original's soft-NMS per class and global score cut). See
    :class:`~mmcenternet.models.dense_heads.task_head.CenterNetTaskHead`.

    Args:
        module: The detector config (a ``CenterNetDetector``).
        flip: Add the mirrored view (the original's ``--flip_test``).
        soft_nms: ``sigma``, ``min_score``, ``method`` (``'gaussian'``, ``'linear'``,
            ``'hard'``), ``iou_threshold`` (linear/hard only) and ``mode`` (``'faithful'``: the
            original's in-place quirk; ``'corrected'``: discarded rows removed); defaults:
            :data:`~mmcenternet.models.utils.soft_nms.SOFT_NMS_DEFAULTS`.
        max_per_img: Final number of detections (ties at the cut are kept).
        nms_single_scale: Apply soft-NMS with a single scale too (the original's ``--nms``).
    """

    def __init__(self,
                 module: dict,
                 flip: bool = True,
                 soft_nms: Optional[dict] = None,
                 max_per_img: int = 100,
                 nms_single_scale: bool = False,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self.flip = flip
        self.soft_nms_cfg = soft_nms_settings(soft_nms)
        self.max_per_img = max_per_img
        self.nms_single_scale = nms_single_scale

    def merge_preds(self, data_samples_list):  # merging happens in test_step
        raise NotImplementedError('CenterNetTTAModel merges inside test_step')

    @torch.no_grad()
    def test_step(self, data: dict) -> List[DetDataSample]:
        """Args:
            data: ``TestTimeAug`` output after collation: ``inputs[view][image]`` and
                ``data_samples[view][image]``, one view per scale.

        Returns:
            One ``DetDataSample`` per image with merged ``pred_instances``.
        """
        views_inputs, views_samples = data['inputs'], data['data_samples']
        if len(views_inputs) == 0:
            raise ValueError('CenterNetTTAModel received no test views (no scales configured)')
        head = self.module.bbox_head
        num_imgs = len(views_inputs[0])
        per_image: List[list] = [[] for _ in range(num_imgs)]
        for inputs, samples in zip(views_inputs, views_samples):
            batch = self.module.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
            views = head.tta_predict_view(self.module, batch['inputs'], batch['data_samples'],
                                          self.flip)
            for i, res in enumerate(views):
                per_image[i].append(res)
        outputs = []
        for i in range(num_imgs):
            sample = views_samples[0][i]
            sample.pred_instances = head.tta_merge(per_image[i], self.soft_nms_cfg,
                                                   self.max_per_img, self.nms_single_scale)
            outputs.append(sample)
        return outputs
