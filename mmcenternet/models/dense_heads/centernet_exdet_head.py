# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet ``exdet`` head: the original's ExtremeNet re-implementation (extreme points and a
centre)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from mmcenternet.registry import DET_MODELS, TASK_UTILS
from ..export_decoders import ExdetDecoder
from ..task_modules.exdet_postprocess import exdet_merge, exdet_post_process
from ..utils.soft_nms import SOFT_NMS_DEFAULTS, SOFT_NMS_MODES, soft_nms_settings
from .centernet_base_head import CenterNetBaseHead
from .task_head import resolve_test_cfg

__all__ = ['CenterNetExdetHead']

PARTS = ('t', 'l', 'b', 'r')
MODES = SOFT_NMS_MODES
#: Deprecated name of :data:`~mmcenternet.models.utils.soft_nms.SOFT_NMS_DEFAULTS`.
DEFAULT_SOFT_NMS = SOFT_NMS_DEFAULTS


@DET_MODELS.register_module()
class CenterNetExdetHead(CenterNetBaseHead):
    """The ``exdet`` head of CenterNet (its re-implementation of ExtremeNet), faithful to the
    original.

    Branches per stack, in the original's order: ``hm_t``, ``hm_l``, ``hm_b``, ``hm_r`` (C
    channels, or 1 with ``agnostic_ex``), ``hm_c`` (C), and ``reg_t``, ``reg_l``, ``reg_b``,
    ``reg_r`` (2 each; absent when ``loss_offset`` is ``None``).

    Training (:meth:`loss`): targets from ``gt_instances.extreme_points`` by
    :class:`CenterNetExdetTargetGenerator`; ``loss_heatmap`` is the sum over the five heat maps of
    the focal loss, ``loss_offset`` the sum over the four points of the masked L1 loss (one
    shared mask), each divided by the number of stacks and summed over stacks (the original
    ``ExdetLoss``: ``hm_weight * hm_loss + off_weight * reg_loss`` with both weights 1).

    Testing (:meth:`predict`): last stack, plain sigmoid, :class:`CenterNetExdetDecoder` (1000
    quadruples per image), then the original's post-processing and merge: detections mapped back
    to the image, rows with a positive score kept, the original soft-NMS per class (always, also
    for one scale), and the global top-``max_per_img`` score cut (ties kept).

    ``test_cfg['mode']``:

    * ``'faithful'`` (default): the behaviour that produced the published numbers. The original's
      ``post_process`` always splits the decoded rows into two halves as if the second came from a
      mirrored image; without the flip test, the detections ranked ``num_dets/2 + 1 ...
      num_dets`` (501-1000) of the single image are therefore mirrored (``x1' = W_out - x2``,
      ``x2' = W_out - x1`` in output pixels) before the merge, and soft-NMS keeps the stale rows
      of its in-place implementation.
    * ``'corrected'``: no half is mirrored without the flip test, and soft-NMS drops the rows it
      discards.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the feature map(s).
        head_conv: Channels of each branch's 3x3 conv.
        num_stacks: Feature maps (stacks) the head receives.
        branch_init: Initialisation of the offset branches (see :class:`CenterNetHeadModule`).
        stride: Input pixels per output pixel.
        agnostic_ex: Class-agnostic extreme-point maps (the original's ``--agnostic_ex``).
        decoder: Decoder config (:class:`CenterNetExdetDecoder`).
        target_generator: Training target config.
        loss_heatmap: Focal loss config (each of the five heat maps).
        loss_offset: Offset loss config (each of the four points; ``None`` disables offsets).
        train_cfg: Unused, for API compatibility.
        test_cfg: ``topk`` (100), ``num_dets`` (1000), ``scores_thresh`` and ``center_thresh``
            (0.1), ``max_per_img`` (100), ``mode`` (``'faithful'``), ``soft_nms`` (sigma 0.5,
            min_score 0.001, Gaussian).
        init_cfg: mmengine initialisation config.
    """

    task = 'exdet'
    TEST_DEFAULTS = dict(topk=100, num_dets=1000, scores_thresh=0.1, center_thresh=0.1,
                         local_maximum_kernel=3, aggr_weight=0.0)

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 head_conv: int = 256,
                 num_stacks: int = 1,
                 branch_init: str = 'zero_bias',
                 stride: int = 4,
                 agnostic_ex: bool = False,
                 decoder: ConfigType = dict(type='CenterNetExdetDecoder'),
                 target_generator: ConfigType = dict(type='CenterNetExdetTargetGenerator'),
                 loss_heatmap: ConfigType = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_offset: OptConfigType = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        num_ex = 1 if agnostic_ex else num_classes
        heads = {f'hm_{p}': num_ex for p in PARTS}
        heads['hm_c'] = num_classes
        if loss_offset is not None:
            heads.update({f'reg_{p}': 2 for p in PARTS})
        super().__init__(num_classes, in_channels, heads, head_conv, num_stacks, branch_init,
                         stride, train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg)
        self.agnostic_ex = agnostic_ex
        self.decoder = TASK_UTILS.build(decoder)
        self.test_cfg = resolve_test_cfg(
            type(self).__name__, self.test_cfg, self.TEST_DEFAULTS,
            legacy=getattr(self.decoder, 'given', None),
            legacy_owner='decoder')
        self.target_generator = TASK_UTILS.build(target_generator)
        self.loss_heatmap = DET_MODELS.build(loss_heatmap)
        self.loss_offset = DET_MODELS.build(loss_offset) if loss_offset is not None else None
        mode = self.test_cfg.get('mode', 'faithful')
        if mode not in MODES:
            raise ValueError(f'test_cfg.mode must be one of {MODES}, got {mode!r}')

    # ------------------------------------------------------------------ training
    def loss_by_feat(self, outs: Sequence[Tensor], batch_gt_instances: InstanceList) -> dict:
        """Args:
            outs: Flat raw maps from :meth:`forward`.
            batch_gt_instances: ``extreme_points`` (N, 4, 2) in input pixels and ``labels`` per
                image.
        """
        stacks = self.split_stacks(outs)
        ref = stacks[0]['hm_c']
        points, labels = [], []
        for g in batch_gt_instances:
            if 'extreme_points' not in g:
                raise KeyError('exdet training needs gt_instances.extreme_points: use the '
                               'CenterNetExdetCocoDataset, LoadExtremePoints and PackExdetInputs '
                               'in the training pipeline')
            points.append(torch.as_tensor(g.extreme_points, dtype=torch.float32,
                                          device=ref.device).reshape(-1, 4, 2))
            labels.append(g.labels.to(ref.device))
        with torch.no_grad():
            t = self.target_generator(points, labels, self.num_classes, ref.shape[-2:],
                                      stride=self.stride, agnostic=self.agnostic_ex)
        return self.loss_by_targets(stacks, t)

    def loss_by_targets(self, stacks: Sequence[Dict[str, Tensor]],
                        targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The original ``ExdetLoss`` for given targets.

        Args:
            stacks: Per stack the raw maps ``hm_t`` ... ``hm_c`` (logits), ``reg_t`` ...
            targets: As produced by :class:`CenterNetExdetTargetGenerator`.

        Returns:
            ``loss_heatmap`` (sum over the five maps) and ``loss_offset`` (sum over the four
            points), each averaged over the stacks.
        """
        n = len(stacks)
        losses = dict(loss_heatmap=0)
        if self.loss_offset is not None:
            losses['loss_offset'] = 0
        for maps in stacks:
            hm = 0
            for p in PARTS + ('c', ):
                hm = hm + self.loss_heatmap(maps[f'hm_{p}'], targets[f'hm_{p}'])
            losses['loss_heatmap'] = losses['loss_heatmap'] + hm / n
            if self.loss_offset is not None:
                off = 0
                for p in PARTS:
                    off = off + self.loss_offset(maps[f'reg_{p}'], targets['reg_mask'],
                                                 targets[f'ind_{p}'], targets[f'reg_{p}'])
                losses['loss_offset'] = losses['loss_offset'] + off / n
        return losses

    #: Deprecated name of :meth:`loss_by_targets`.
    loss_from_targets = loss_by_targets

    # ------------------------------------------------------------------ testing
    @property
    def mode(self) -> str:
        return self.test_cfg.get('mode', 'faithful')

    def decode_outputs(self, outs: Sequence[Tensor]) -> Tuple[Tensor, int]:
        """Last stack -> fp32 -> :meth:`decode_maps`; also the output map's width (which the
        original's post-processing uses to mirror boxes).

        Returns:
            ``(dets, out_w)``: (B, num_dets, 14) rows in output-map pixels and the map width.
        """
        return self.decode_maps(self.last_stack_maps(outs)), self._out_width(outs)

    def results_from_decoded(self, decoded: Tuple[Tensor, int], batch_img_metas: List[dict],
                             rescale: bool = True) -> InstanceList:
        """Single-view test: post-process and merge each image (see the class doc)."""
        dets, out_w = decoded
        results = []
        for i, meta in enumerate(batch_img_metas):
            rows = self.post_process(dets[i], None, out_w, meta if rescale else None)
            results.append(self.merge_rows([rows]))
        return results

    def _out_width(self, outs: Sequence[Tensor]) -> int:
        return int(outs[0].shape[-1])

    def decode_maps(self, maps: Dict[str, Tensor]) -> Tensor:
        """Raw maps of one stack -> (B, num_dets, 14) detections in output-map pixels.

        Columns ``[x1, y1, x2, y2, score, x_t, y_t, x_l, y_l, x_b, y_b, x_r, y_r, label]``.
        """
        heat = {p: maps[f'hm_{p}'].sigmoid() for p in PARTS + ('c', )}
        offs = {p: maps[f'reg_{p}'] for p in PARTS if f'reg_{p}' in maps}
        cfg = self.test_cfg
        return self.decoder.decode(heat, offs or None, topk=cfg['topk'],
                                   num_dets=cfg['num_dets'], scores_thresh=cfg['scores_thresh'],
                                   center_thresh=cfg['center_thresh'],
                                   kernel=cfg['local_maximum_kernel'],
                                   aggr_weight=cfg['aggr_weight'])

    def post_process(self, dets: Tensor, flipped: Optional[Tensor], out_w: int,
                     meta: Optional[dict]) -> np.ndarray:
        """The original ``post_process`` for one image (and its mirrored view), see
        :func:`~mmcenternet.models.task_modules.exdet_postprocess.exdet_post_process`.

        Args:
            dets: (N, 14) decoded rows of the image.
            flipped: (N, 14) decoded rows of its mirrored input, or ``None``.
            out_w: Width of the output map.
            meta: Image meta (boxes are mapped back to the image), or ``None`` (input pixels).

        Returns:
            (M, 6) float32 ``[x1, y1, x2, y2, score, label]``: the image's rows then the mirrored
            view's rows, boxes mirrored back with ``x' = W_out - x``. Without a mirrored view in
            ``'faithful'`` mode the second half of ``dets`` is treated as the mirrored view.
        """
        return exdet_post_process(dets, flipped, out_w, self.stride, meta,
                                  halves_as_views=self.mode == 'faithful')

    def merge_rows(self, views: Sequence[np.ndarray], soft_nms: Optional[dict] = None,
                   max_per_img: Optional[int] = None) -> InstanceData:
        """The original ``merge_outputs``: concatenate the views' rows, keep positive scores,
        soft-NMS per class (always), global top-``max_per_img`` cut with ties kept.

        Args:
            views: (M_v, 6) ``[x1, y1, x2, y2, score, label]`` rows per view (scale), in order.
            soft_nms: Soft-NMS settings (default: ``test_cfg['soft_nms']``); in ``'corrected'``
                mode discarded rows are always dropped.
            max_per_img: Final detections (default ``test_cfg['max_per_img']``, 100).
        """
        cfg = soft_nms_settings(self.test_cfg.get('soft_nms') if soft_nms is None else soft_nms)
        if self.mode == 'corrected':
            cfg['mode'] = 'corrected'
        max_per_img = self.test_cfg.get('max_per_img', 100) if max_per_img is None \
            else max_per_img
        boxes, scores, labels = exdet_merge(views, self.num_classes, cfg, max_per_img)
        res = InstanceData()
        res.bboxes = torch.from_numpy(boxes).reshape(-1, 4)
        res.scores = torch.from_numpy(scores)
        res.labels = torch.from_numpy(labels)
        return res

    # ------------------------------------------------------------------ test-time augmentation
    def tta_predict_view(self, detector: nn.Module, inputs: Tensor, samples: Sequence,
                         flip: bool) -> List[np.ndarray]:
        """One TTA view (scale) for :class:`CenterNetTTAModel`: the images (and their mirrors)
        decoded separately, each image's rows post-processed as the original does.

        Returns:
            Per image (M, 6) rows ``[x1, y1, x2, y2, score, label]`` in image pixels.
        """
        b = inputs.shape[0]
        x = torch.cat([inputs, inputs.flip(-1)]) if flip else inputs
        outs = self(detector.extract_feat(x))
        dets = self.decode_maps(self.split_stacks(outs)[-1])
        out_w = self._out_width(outs)
        return [self.post_process(dets[i], dets[b + i] if flip else None, out_w, s.metainfo)
                for i, s in enumerate(samples)]

    def tta_merge(self, views: Sequence[np.ndarray], soft_nms: Optional[dict] = None,
                  max_per_img: Optional[int] = None,
                  nms_single_scale: bool = False) -> InstanceData:
        """Merge the views of one image (see :meth:`merge_rows`; the original's exdet test
        always runs soft-NMS, so ``nms_single_scale`` changes nothing)."""
        return self.merge_rows(views, soft_nms, max_per_img)

    # ------------------------------------------------------------------ export
    def export_decoder(self, test_cfg: Optional[dict] = None) -> ExdetDecoder:
        """:class:`ExdetDecoder` (the grouping as a static graph) with this head's settings."""
        cfg = dict(self.test_cfg, **(test_cfg or {}))
        if cfg['aggr_weight'] > 0:
            raise ValueError(f'test_cfg.aggr_weight={cfg["aggr_weight"]}: the exported exdet '
                             'decoder has no edge aggregation; export the raw maps (without '
                             '--with-decoder) or set aggr_weight=0')
        return ExdetDecoder(list(self.head_module.heads), self.num_stacks, cfg['topk'],
                            cfg['local_maximum_kernel'], float(self.stride),
                            num_dets=cfg['num_dets'], scores_thresh=cfg['scores_thresh'],
                            center_thresh=cfg['center_thresh'])
