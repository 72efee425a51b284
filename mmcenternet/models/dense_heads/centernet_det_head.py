# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet ``ctdet`` head: heatmap, size and offset branches with the original loss and decoding."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from mmcenternet.registry import DET_MODELS, TASK_UTILS
from .centernet_base_head import CenterNetBaseHead


def project_to_image(bboxes: Tensor, img_meta: dict) -> Tensor:
    """Map boxes from network-input pixels back to the original image.

    Uses the pipeline's ``homography_matrix`` (recorded by mmdet's ``Resize``/``RandomFlip`` and by
    mmcenternet's padding and test resize) when present, otherwise divides by ``scale_factor``; no
    clipping and no re-ordering of corners (CenterNet returns boxes as decoded).

    Args:
        bboxes: (N, 4) boxes in input pixels.
        img_meta: Image meta information.

    Returns:
        (N, 4) boxes in original-image pixels.
    """
    matrix = img_meta.get('homography_matrix')
    if matrix is not None:
        inv = torch.as_tensor(np.linalg.inv(np.asarray(matrix, dtype=np.float64)),
                              device=bboxes.device)
        pts = bboxes.to(torch.float64).reshape(-1, 2)
        pts = torch.cat([pts, pts.new_ones(len(pts), 1)], dim=1) @ inv.T
        pts = pts[:, :2] / pts[:, 2:3]
        return pts.reshape(-1, 4).to(bboxes.dtype)
    scale = img_meta.get('scale_factor')
    if scale is None:
        return bboxes
    scale = bboxes.new_tensor(scale).repeat(2) if len(scale) == 2 else bboxes.new_tensor(scale)
    return bboxes / scale


@DET_MODELS.register_module()
class CenterNetDetHead(CenterNetBaseHead):
    """The ``ctdet`` head of "Objects as Points", faithful to the original implementation.

    Branches ``hm`` (C), ``wh`` (2) and ``reg`` (2) per stack (see :class:`CenterNetHeadModule`).
    Training: targets from :class:`CenterNetTargetGenerator`, focal loss on the clamped sigmoid,
    masked L1 for size and offset, each divided by the number of stacks and summed over stacks.
    Testing: last stack only, plain sigmoid, 3x3 peak test, top-K, boxes mapped back to the image.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the feature map(s).
        head_conv: Channels of each branch's 3x3 conv.
        num_stacks: Feature maps (stacks) the head receives.
        branch_init: Initialisation of the size/offset branches (see :class:`CenterNetHeadModule`).
        stride: Input pixels per output pixel (CenterNet's ``down_ratio``).
        bbox_coder: Coder config (decoding).
        target_generator: Training target config.
        loss_center_heatmap: Heatmap loss config.
        loss_wh: Size loss config.
        loss_offset: Offset loss config (``None`` disables the offset branch).
        train_cfg: Unused, for API compatibility.
        test_cfg: ``topk`` (100), ``local_maximum_kernel`` (3), ``max_per_img`` (100).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 head_conv: int = 256,
                 num_stacks: int = 1,
                 branch_init: str = 'zero_bias',
                 stride: int = 4,
                 bbox_coder: ConfigType = dict(type='CenterNetBBoxCoder'),
                 target_generator: ConfigType = dict(type='CenterNetTargetGenerator'),
                 loss_center_heatmap: ConfigType = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_wh: ConfigType = dict(type='CenterNetRegL1Loss', loss_weight=0.1),
                 loss_offset: OptConfigType = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        heads = dict(hm=num_classes, wh=2)
        if loss_offset is not None:
            heads['reg'] = 2
        super().__init__(num_classes, in_channels, heads, head_conv, num_stacks, branch_init,
                         stride, train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg)
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.target_generator = TASK_UTILS.build(target_generator)
        self.loss_center_heatmap = DET_MODELS.build(loss_center_heatmap)
        self.loss_wh = DET_MODELS.build(loss_wh)
        self.loss_offset = DET_MODELS.build(loss_offset) if loss_offset is not None else None

    # ------------------------------------------------------------------ training
    def loss_by_feat(self, outs: Sequence[Tensor], batch_gt_instances: InstanceList) -> dict:
        """Args:
            outs: Flat raw maps from :meth:`forward`.
            batch_gt_instances: ``bboxes`` (input pixels) and ``labels`` per image.
        """
        stacks = self.split_stacks(outs)
        hm0 = stacks[0]['hm']
        bboxes = [self._as_tensor(g.bboxes, hm0) for g in batch_gt_instances]
        labels = [g.labels.to(hm0.device) for g in batch_gt_instances]
        with torch.no_grad():
            t = self.target_generator(bboxes, labels, self.num_classes, hm0.shape[-2:],
                                      stride=self.stride)
        return self.loss_from_targets(stacks, t)

    def loss_from_targets(self, stacks: Sequence[Dict[str, Tensor]],
                          targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The original ``CtdetLoss`` for given targets.

        Args:
            stacks: Per stack ``{'hm': logits, 'wh': ..., 'reg': ...}`` raw maps.
            targets: ``hm`` (B, C, H, W), ``ind`` (B, M), ``wh``/``reg`` (B, M, 2) and
                ``reg_mask`` (B, M), as produced by :class:`CenterNetTargetGenerator`.

        Returns:
            Weighted loss terms, each averaged over the stacks.
        """
        t = targets
        n = len(stacks)
        losses = dict(loss_center_heatmap=0, loss_wh=0)
        if self.loss_offset is not None:
            losses['loss_offset'] = 0
        for maps in stacks:
            losses['loss_center_heatmap'] = losses['loss_center_heatmap'] + \
                self.loss_center_heatmap(maps['hm'], t['hm']) / n
            losses['loss_wh'] = losses['loss_wh'] + \
                self.loss_wh(maps['wh'], t['reg_mask'], t['ind'], t['wh']) / n
            if self.loss_offset is not None:
                losses['loss_offset'] = losses['loss_offset'] + self.loss_offset(
                    maps['reg'], t['reg_mask'], t['ind'], t['reg']) / n
        return losses

    @staticmethod
    def _as_tensor(bboxes, ref: Tensor) -> Tensor:
        bboxes = getattr(bboxes, 'tensor', bboxes)
        return bboxes.to(device=ref.device, dtype=torch.float32)

    # ------------------------------------------------------------------ testing
    def predict(self, x: Tuple[Tensor], batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        outs = self(x)
        metas = [ds.metainfo for ds in batch_data_samples]
        return self.predict_by_feat(outs, batch_img_metas=metas, rescale=rescale)

    def predict_by_feat(self, outs: Sequence[Tensor], batch_img_metas: List[dict],
                        rescale: bool = True) -> InstanceList:
        """Decode the last stack's raw maps into per-image instances."""
        # sigmoid and decoding in fp32 whatever precision the network ran in (fp16 / AMP)
        maps = {name: m.float() for name, m in self.split_stacks(outs)[-1].items()}
        bboxes, scores, labels = self.decode_maps(maps['hm'].sigmoid(), maps['wh'],
                                                  maps.get('reg'))
        return self.to_instances(bboxes, scores, labels, batch_img_metas, rescale)

    def decode_maps(self, heatmap: Tensor, wh: Tensor,
                    offset: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """Tensor-only decoding (no meta information).

        Args:
            heatmap: (B, C, h, w) probabilities.
            wh: (B, 2, h, w) sizes.
            offset: (B, 2, h, w) offsets or ``None``.

        Returns:
            (B, K, 4) boxes in network-input pixels, (B, K) scores, (B, K) labels.
        """
        k = self.test_cfg.get('topk', self.bbox_coder.topk)
        return self.bbox_coder.decode(heatmap, wh, offset, k=k, stride=self.stride)

    def to_instances(self, bboxes: Tensor, scores: Tensor, labels: Tensor,
                     batch_img_metas: List[dict], rescale: bool) -> InstanceList:
        """Wrap decoded tensors as ``InstanceData``, mapping boxes to the image if ``rescale``."""
        max_per_img = self.test_cfg.get('max_per_img', bboxes.shape[1])
        results = []
        for i, meta in enumerate(batch_img_metas):
            res = InstanceData()
            b = bboxes[i, :max_per_img]
            res.bboxes = project_to_image(b, meta) if rescale else b
            res.scores = scores[i, :max_per_img]
            res.labels = labels[i, :max_per_img]
            results.append(res)
        return results
