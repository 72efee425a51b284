# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet ``ctdet`` head: heatmap, size and offset branches with the original loss and decoding."""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from mmcenternet.registry import DET_MODELS, TASK_UTILS
from ..export_decoders import CtdetDecoder
from ..utils.flip import merge_flip_maps, split_flip_batch
from ..utils.geometry import project_to_image
from ..utils.oracle import ORACLE_MAPS, oracle_map
from ..utils.soft_nms import merge_detections, soft_nms_settings
from .centernet_base_head import CenterNetBaseHead
from .task_head import renamed_loss_cfg, resolve_test_cfg

__all__ = ['CenterNetDetHead', 'project_to_image']


def _check_wh_options(head: str, dense_wh: bool, cat_spec_wh: bool, norm_wh: bool) -> None:
    """Refuse the size options the original cannot run together; say what ``norm_wh`` does."""
    if dense_wh and cat_spec_wh:
        raise ValueError(f'{head}: dense_wh and cat_spec_wh together cannot run (the original '
                         'multiplies 2 x num_classes size maps by a 2-channel dense mask); '
                         'choose one')
    if norm_wh and cat_spec_wh:
        raise ValueError(f'{head}: norm_wh with cat_spec_wh cannot run (the original\'s '
                         'NormRegL1Loss cannot take the class-column mask); drop norm_wh')
    if norm_wh:
        warnings.warn(f'{head}: norm_wh changes nothing, as in the original (its NormRegL1Loss '
                      'is built but used only with cat_spec_wh, which cannot run with it)')


def _check_heatmap_loss(head: str, loss: nn.Module, targets) -> None:
    """The MSE heat-map loss and the MSRA Gaussian targets go together (``--mse_loss``)."""
    mse = type(loss).__name__ == 'CenterNetMSELoss'
    msra = getattr(targets, 'heatmap', 'umich') == 'msra'
    if mse != msra:
        raise ValueError(
            f'{head}: loss_heatmap={type(loss).__name__} with target_generator.heatmap='
            f'{getattr(targets, "heatmap", "umich")!r}: the original\'s --mse_loss uses '
            "CenterNetMSELoss with heatmap='msra' targets, the model zoo CenterNetFocalLoss with "
            "'umich' targets")


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
        loss_heatmap: Heat-map loss config.
        loss_wh: Size loss config.
        loss_offset: Offset loss config (``None`` disables the offset branch).
        train_cfg: Unused, for API compatibility.
        test_cfg: ``topk`` (100), ``local_maximum_kernel`` (3), ``max_per_img`` (100): the
            one home of the first two (the coder's own ``topk`` / ``local_maximum_kernel`` are
            deprecated).
        init_cfg: mmengine initialisation config.
        loss_center_heatmap: Deprecated name of ``loss_heatmap`` (merged into it).
        dense_wh: The original's ``--dense_wh``: dense size maps weighted by the heat map
            (targets ``dense_wh`` / ``dense_wh_mask``, :class:`CenterNetDenseL1Loss` with
            ``loss_wh``'s weight).
        cat_spec_wh: The original's ``--cat_spec_wh``: one size pair per class (a
            ``2 x num_classes`` size branch, class-column targets and mask, decoding the pair
            of the peak's class).
        norm_wh: The original's ``--norm_wh``, accepted for completeness: it changes nothing,
            as in the original.
    """

    task = 'ctdet'
    TEST_DEFAULTS = dict(topk=100, local_maximum_kernel=3)
    # the original's flip test: heat maps (probabilities) and sizes averaged with the mirrored
    # view flipped back, offsets from the un-mirrored view only
    FLIP_RULES = dict(hm='mean', wh='mean', reg='first')

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 head_conv: int = 256,
                 num_stacks: int = 1,
                 branch_init: str = 'zero_bias',
                 stride: int = 4,
                 bbox_coder: ConfigType = dict(type='CenterNetBBoxCoder'),
                 target_generator: ConfigType = dict(type='CenterNetTargetGenerator'),
                 loss_heatmap: ConfigType = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_wh: ConfigType = dict(type='CenterNetRegL1Loss', loss_weight=0.1),
                 loss_offset: OptConfigType = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 loss_center_heatmap: OptConfigType = None,
                 dense_wh: bool = False,
                 cat_spec_wh: bool = False,
                 norm_wh: bool = False) -> None:
        _check_wh_options(type(self).__name__, dense_wh, cat_spec_wh, norm_wh)
        self.dense_wh, self.cat_spec_wh, self.norm_wh = dense_wh, cat_spec_wh, norm_wh
        heads = dict(hm=num_classes, wh=2 * num_classes if cat_spec_wh else 2)
        if loss_offset is not None:
            heads['reg'] = 2
        super().__init__(num_classes, in_channels, heads, head_conv, num_stacks, branch_init,
                         stride, train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg)
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.test_cfg = resolve_test_cfg(
            type(self).__name__, self.test_cfg, self.TEST_DEFAULTS,
            legacy=dict(topk=getattr(self.bbox_coder, 'topk', None),
                        local_maximum_kernel=getattr(self.bbox_coder, 'local_maximum_kernel',
                                                     None)),
            legacy_owner='bbox_coder')
        self.target_generator = TASK_UTILS.build(target_generator)
        self.loss_heatmap = DET_MODELS.build(renamed_loss_cfg(
            type(self).__name__, 'loss_heatmap', loss_heatmap, 'loss_center_heatmap',
            loss_center_heatmap))
        self.loss_wh = DET_MODELS.build(loss_wh)
        if dense_wh:  # the original's --dense_wh loss, whatever the regression loss
            self.loss_wh = DET_MODELS.build(dict(type='CenterNetDenseL1Loss',
                                                 loss_weight=self.loss_wh.loss_weight))
        elif cat_spec_wh:  # RegWeightedL1Loss: the per-coordinate mask of the class columns
            self.loss_wh = DET_MODELS.build(dict(type='CenterNetRegL1Loss',
                                                 loss_weight=self.loss_wh.loss_weight))
        self.loss_offset = DET_MODELS.build(loss_offset) if loss_offset is not None else None
        _check_heatmap_loss(type(self).__name__, self.loss_heatmap, self.target_generator)

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
                                      stride=self.stride, dense_wh=self.dense_wh,
                                      cat_spec_wh=self.cat_spec_wh)
        return self.loss_by_targets(stacks, t)

    def loss_by_targets(self, stacks: Sequence[Dict[str, Tensor]],
                        targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The original ``CtdetLoss`` for given targets.

        Args:
            stacks: Per stack ``{'hm': logits, 'wh': ..., 'reg': ...}`` raw maps.
            targets: ``hm`` (B, C, H, W), ``ind`` (B, M), ``wh``/``reg`` (B, M, 2) and
                ``reg_mask`` (B, M), as produced by :class:`CenterNetTargetGenerator` (with
                ``dense_wh``: ``dense_wh`` / ``dense_wh_mask``; with ``cat_spec_wh``:
                ``cat_spec_wh`` / ``cat_spec_mask``).

        Returns:
            Weighted loss terms, each averaged over the stacks.
        """
        t = targets
        n = len(stacks)
        losses = dict(loss_heatmap=0, loss_wh=0)
        if self.loss_offset is not None:
            losses['loss_offset'] = 0
        for maps in stacks:
            losses['loss_heatmap'] = losses['loss_heatmap'] + \
                self.loss_heatmap(maps['hm'], t['hm']) / n
            if self.dense_wh:
                wh = self.loss_wh(maps['wh'], t['dense_wh_mask'], t['dense_wh'])
            elif self.cat_spec_wh:
                wh = self.loss_wh(maps['wh'], t['cat_spec_mask'], t['ind'], t['cat_spec_wh'])
            else:
                wh = self.loss_wh(maps['wh'], t['reg_mask'], t['ind'], t['wh'])
            losses['loss_wh'] = losses['loss_wh'] + wh / n
            if self.loss_offset is not None:
                losses['loss_offset'] = losses['loss_offset'] + self.loss_offset(
                    maps['reg'], t['reg_mask'], t['ind'], t['reg']) / n
        return losses

    #: Deprecated name of :meth:`loss_by_targets`.
    loss_from_targets = loss_by_targets

    @property
    def loss_center_heatmap(self) -> nn.Module:
        """Deprecated name of :attr:`loss_heatmap`."""
        return self.loss_heatmap

    @staticmethod
    def _as_tensor(bboxes, ref: Tensor) -> Tensor:
        bboxes = getattr(bboxes, 'tensor', bboxes)
        return bboxes.to(device=ref.device, dtype=torch.float32)

    # ------------------------------------------------------------------ testing
    def predict(self, x: Tuple[Tensor], batch_data_samples: list,
                rescale: bool = False) -> InstanceList:
        oracle = tuple(self.test_cfg.get('oracle') or ())
        if not oracle:
            return super().predict(x, batch_data_samples, rescale)
        maps = self.last_stack_maps(self(x))
        maps['hm'] = maps['hm'].sigmoid()
        self.apply_oracle(maps, batch_data_samples, oracle)
        decoded = self.decode_maps(maps['hm'], maps['wh'], maps.get('reg'))
        return self.results_from_decoded(decoded, [s.metainfo for s in batch_data_samples],
                                         rescale)

    def apply_oracle(self, maps: Dict[str, Tensor], batch_data_samples: list,
                     oracle: Sequence[str]) -> None:
        """The original's ``--eval_oracle_hm / _wh / _offset``: replace predicted maps (``hm``
        as probabilities) by the ones the training targets give for the samples' ground truth,
        in place (sizes and offsets spread from each centre, :func:`oracle_map`)."""
        unknown = sorted(set(oracle) - set(ORACLE_MAPS))
        if unknown:
            raise ValueError(f'test_cfg.oracle: unknown map(s) {unknown}; choose from '
                             f'{ORACLE_MAPS}')
        if not batch_data_samples or any('gt_instances' not in s or 'bboxes' not in
                                         s.gt_instances for s in batch_data_samples):
            raise ValueError('test_cfg.oracle needs the ground truth of the test images: load '
                             'the annotations in the test pipeline (tools/test.py --oracle does)')
        if 'offset' in oracle and 'reg' not in maps:
            raise ValueError("test_cfg.oracle 'offset': this head has no offset branch")
        hm = maps['hm']
        h, w = hm.shape[-2:]
        gts = [s.gt_instances for s in batch_data_samples]
        t = self.target_generator([self._as_tensor(g.bboxes, hm) for g in gts],
                                  [g.labels.to(hm.device) for g in gts], self.num_classes, (h, w),
                                  stride=self.stride, cat_spec_wh=self.cat_spec_wh)
        if 'hm' in oracle:
            maps['hm'] = t['hm']
        if 'wh' in oracle:
            maps['wh'] = oracle_map(t['cat_spec_wh' if self.cat_spec_wh else 'wh'], t['ind'], h, w)
        if 'offset' in oracle:
            maps['reg'] = oracle_map(t['reg'], t['ind'], h, w)

    def decode_outputs(self, outs: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """Last stack -> fp32 -> sigmoid -> :meth:`decode_maps` (boxes in input pixels)."""
        maps = self.last_stack_maps(outs)
        return self.decode_maps(maps['hm'].sigmoid(), maps['wh'], maps.get('reg'))

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
        return self.bbox_coder.decode(heatmap, wh, offset, k=self.test_cfg['topk'],
                                      stride=self.stride,
                                      kernel=self.test_cfg['local_maximum_kernel'])

    def results_from_decoded(self, decoded: Tuple[Tensor, Tensor, Tensor],
                             batch_img_metas: List[dict], rescale: bool = True) -> InstanceList:
        """Per-image instances of :meth:`decode_outputs` (see :meth:`to_instances`)."""
        return self.to_instances(*decoded, batch_img_metas, rescale)

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

    # ------------------------------------------------------------------ test-time augmentation
    def tta_predict_view(self, model: nn.Module, inputs: Tensor, samples: Sequence,
                         flip: bool) -> List[Tuple[Tensor, Tensor, Tensor]]:
        """One view: the images and their mirrors as one batch, maps merged before decoding
        (the original's flip test), top-K peaks mapped back to each image.

        Returns:
            Per image ``(bboxes (K, 4), scores (K, ), labels (K, ))`` in image pixels.
        """
        b = inputs.shape[0]
        x = torch.cat([inputs, inputs.flip(-1)]) if flip else inputs
        maps = self.last_stack_maps(self(model.extract_feat(x)))
        maps['hm'] = maps['hm'].sigmoid()
        if flip:
            maps = merge_flip_maps(*split_flip_batch(maps, b), self.FLIP_RULES)
        bboxes, scores, labels = self.decode_maps(maps['hm'], maps['wh'], maps.get('reg'))
        return [(project_to_image(bboxes[i], s.metainfo), scores[i], labels[i])
                for i, s in enumerate(samples)]

    def tta_merge(self, views: Sequence[Tuple[Tensor, Tensor, Tensor]],
                  soft_nms: Optional[dict] = None, max_per_img: Optional[int] = None,
                  nms_single_scale: bool = False) -> InstanceData:
        """The original ``merge_outputs``: one view is returned as decoded (unless
        ``nms_single_scale``); several are merged per class with soft-NMS, then the global
        top-``max_per_img`` score cut keeps ties."""
        cfg = soft_nms_settings(soft_nms)
        max_per_img = self.test_cfg.get('max_per_img', 100) if max_per_img is None \
            else max_per_img
        run_nms = len(views) > 1 or nms_single_scale
        result = InstanceData()
        device = views[0][0].device
        if not run_nms:
            result.bboxes, result.scores, result.labels = views[0]
            return result
        per_scale = []
        for bboxes, scores, labels in views:
            rows = torch.cat([bboxes, scores[:, None]], 1).float().cpu().numpy()
            lab = labels.cpu().numpy()
            per_scale.append([rows[lab == c] for c in range(self.num_classes)])
        merged = merge_detections(per_scale, self.num_classes, run_nms, max_per_img,
                                  sigma=cfg['sigma'], nt=cfg['iou_threshold'],
                                  threshold=cfg['min_score'], method=cfg['method'],
                                  mode=cfg['mode'])
        rows = np.concatenate(merged, 0) if merged else np.zeros((0, 5), np.float32)
        labels = np.concatenate([np.full(len(m), c) for c, m in enumerate(merged)])
        result.bboxes = torch.from_numpy(rows[:, :4].copy()).to(device)
        result.scores = torch.from_numpy(rows[:, 4].copy()).to(device)
        result.labels = torch.from_numpy(labels.astype(np.int64)).to(device)
        return result

    # ------------------------------------------------------------------ export
    def export_decoder(self, test_cfg: Optional[dict] = None) -> CtdetDecoder:
        """:class:`CtdetDecoder` with this head's branches and test settings."""
        cfg = dict(self.test_cfg, **(test_cfg or {}))
        return CtdetDecoder(list(self.head_module.heads), self.num_stacks, cfg['topk'],
                            cfg['local_maximum_kernel'], float(self.stride))
