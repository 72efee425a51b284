# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's flip and multi-scale test as an mmengine TTA model."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.model import BaseTTAModel
from mmengine.structures import InstanceData
from torch import Tensor

from mmcenternet.models.dense_heads.centernet_det_head import project_to_image
from mmcenternet.registry import DET_MODELS
from .soft_nms import merge_detections


def merge_flip(maps: Dict[str, Tensor], batch: int) -> Dict[str, Tensor]:
    """Average a ``[views; mirrored views]`` batch of ctdet maps as the original does.

    ``hm`` (already probabilities) and ``wh`` are averaged with the mirrored half flipped back;
    ``reg`` comes from the unflipped half only.
    """
    out = {}
    for name, value in maps.items():
        if name == 'reg':
            out[name] = value[:batch]
        else:
            out[name] = (value[:batch] + value[batch:].flip(-1)) / 2
    return out


@DET_MODELS.register_module()
class CenterNetTTAModel(BaseTTAModel):
    """Feature-level flip and multi-scale soft-NMS test of CenterNet ``ctdet``.

    For every scale the (resized, padded) image and its mirror run as one batch; the maps are
    merged before decoding (:func:`merge_flip`); each scale is decoded to the top-K peaks and
    mapped back to the image; with more than one scale the detections of each class are merged
    with the original's soft-NMS (:func:`merge_detections`), then the global score cut keeps the
    ``max_per_img`` best (ties kept).

    Heads with their own test-time procedure (``exdet``: each view and its mirror decoded
    separately, soft-NMS always) provide ``tta_predict_view(detector, inputs, samples, flip)``
    (per image, the view's detections) and ``tta_merge(views, soft_nms, max_per_img)`` (the
    merged ``InstanceData``); the model then delegates both steps to them.

    Args:
        module: The detector config (a ``CenterNetDetector``).
        flip: Add the mirrored view (the original's ``--flip_test``).
        soft_nms: ``sigma``, ``min_score``, ``method`` (``'gaussian'``, ``'linear'``,
            ``'hard'``), ``iou_threshold`` (linear/hard only) and ``mode`` (``'faithful'``: the
            original's in-place quirk; ``'corrected'``: discarded rows removed).
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
        cfg = dict(sigma=0.5, min_score=0.001, method='gaussian', iou_threshold=0.5,
                   mode='faithful')
        cfg.update(soft_nms or {})
        if cfg['mode'] not in ('faithful', 'corrected'):
            raise ValueError(f"soft_nms.mode must be 'faithful' or 'corrected', got {cfg['mode']}")
        self.soft_nms_cfg = cfg
        self.max_per_img = max_per_img
        self.nms_single_scale = nms_single_scale

    def merge_preds(self, data_samples_list):  # merging happens on maps in test_step
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
        num_imgs = len(views_inputs[0])
        per_image: List[List[Tuple[Tensor, Tensor, Tensor]]] = [[] for _ in range(num_imgs)]
        for inputs, samples in zip(views_inputs, views_samples):
            batch = self.module.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
            for i, res in enumerate(self._predict_view(batch['inputs'], batch['data_samples'])):
                per_image[i].append(res)
        outputs = []
        for i in range(num_imgs):
            sample = views_samples[0][i]
            sample.pred_instances = self._merge_scales(per_image[i])
            outputs.append(sample)
        return outputs

    def _predict_view(self, inputs: Tensor,
                      samples: Sequence[DetDataSample]) -> List[Tuple[Tensor, Tensor, Tensor]]:
        head = self.module.bbox_head
        if hasattr(head, 'tta_predict_view'):
            return head.tta_predict_view(self.module, inputs, samples, self.flip)
        b = inputs.shape[0]
        x = torch.cat([inputs, inputs.flip(-1)]) if self.flip else inputs
        maps = head.split_stacks(head(self.module.extract_feat(x)))[-1]
        maps = {name: m.float() for name, m in maps.items()}  # fp32 decoding under fp16 / AMP
        maps['hm'] = maps['hm'].sigmoid()
        if self.flip:
            maps = merge_flip(maps, b)
        bboxes, scores, labels = head.decode_maps(maps['hm'], maps['wh'], maps.get('reg'))
        results = []
        for i, sample in enumerate(samples):
            results.append((project_to_image(bboxes[i], sample.metainfo), scores[i], labels[i]))
        return results

    def _merge_scales(self, views: List[Tuple[Tensor, Tensor, Tensor]]) -> InstanceData:
        if hasattr(self.module.bbox_head, 'tta_merge'):
            return self.module.bbox_head.tta_merge(views, self.soft_nms_cfg, self.max_per_img)
        num_classes = self.module.bbox_head.num_classes
        run_nms = len(views) > 1 or self.nms_single_scale
        result = InstanceData()
        device = views[0][0].device
        if not run_nms and len(views) == 1:
            result.bboxes, result.scores, result.labels = views[0]
            return result
        per_scale = []
        for bboxes, scores, labels in views:
            rows = torch.cat([bboxes, scores[:, None]], 1).float().cpu().numpy()
            lab = labels.cpu().numpy()
            per_scale.append([rows[lab == c] for c in range(num_classes)])
        cfg = self.soft_nms_cfg
        merged = merge_detections(per_scale, num_classes, run_nms, self.max_per_img,
                                  sigma=cfg['sigma'], nt=cfg['iou_threshold'],
                                  threshold=cfg['min_score'], method=cfg['method'],
                                  mode=cfg['mode'])
        rows = np.concatenate(merged, 0) if merged else np.zeros((0, 5), np.float32)
        labels = np.concatenate([np.full(len(m), c) for c, m in enumerate(merged)])
        result.bboxes = torch.from_numpy(rows[:, :4].copy()).to(device)
        result.scores = torch.from_numpy(rows[:, 4].copy()).to(device)
        result.labels = torch.from_numpy(labels.astype(np.int64)).to(device)
        return result
