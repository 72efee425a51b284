# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet ``multi_pose`` head for mmpose: six branches, the original losses and decoding."""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from torch import Tensor

from mmcenternet.registry import POSE_MODELS
from ..export_decoders import MultiPoseDecoder
from ..task_modules.coders.pose_decode import (COCO_FLIP_PAIRS, POSE_FLIP_RULES,
                                               merge_flip_outputs, multi_pose_decode)
from ..task_modules.pose_targets import CenterNetPoseTargetGenerator
from ..utils.oracle import oracle_map
from ..utils.soft_nms import merge_multi_pose_outputs, soft_nms_settings
from .centernet_head_module import CenterNetHeadModule
from .task_head import CenterNetTaskHead, renamed_loss_cfg, resolve_test_cfg

__all__ = ['CenterNetPoseHead']

#: Branch order of the original ``multi_pose`` network (also the order of the raw outputs).
BRANCHES = ('hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset')


def _check_flip_indices(indices: Sequence[int], num_keypoints: int, what: str) -> None:
    """A permutation of the joints that is its own inverse, or a one-line error."""
    idx = [int(i) for i in indices]
    if len(idx) != num_keypoints:
        raise ValueError(f'{what} has {len(idx)} entries, the head predicts {num_keypoints} '
                         'keypoints (model.head.num_keypoints)')
    bad = [i for i in idx if not 0 <= i < num_keypoints]
    if bad:
        raise ValueError(f'{what} names joint {bad[0]}, which does not exist ({num_keypoints} '
                         'keypoints)')
    if any(idx[j] != i for i, j in enumerate(idx)):
        raise ValueError(f'{what} {idx} is not a set of left/right pairs (flipping twice must '
                         'give every joint back)')


def _pairs_from_indices(flip_indices: Sequence[int]) -> List[Tuple[int, int]]:
    return [(i, int(j)) for i, j in enumerate(flip_indices) if i < int(j)]


@POSE_MODELS.register_module()
class CenterNetPoseHead(CenterNetTaskHead, BaseHead):
    """The ``multi_pose`` head of "Objects as Points", faithful to the original.

    Branches per stack (raw outputs in this order): ``hm`` (1, person centre logits), ``wh`` (2),
    ``hps`` (2K joint displacements from the centre), ``reg`` (2), ``hm_hp`` (K joint logits),
    ``hp_offset`` (2), each ``3x3 conv -> ReLU -> 1x1 conv`` (see :class:`CenterNetHeadModule`).

    Training: targets from :class:`CenterNetPoseTargetGenerator`; loss terms ``loss_heatmap``
    (focal on the clamped sigmoid), ``loss_wh`` (x0.1), ``loss_offset``, ``loss_hps``
    (per-coordinate weighted L1), ``loss_hm_hp`` (focal) and ``loss_hp_offset``, each divided by
    the number of stacks and summed over stacks, as the original ``MultiPoseLoss``.

    Testing: last stack, plain sigmoid, optional flip merging (``test_cfg.flip_test``; the
    estimator passes ``[feats, feats_of_mirrored_input]``), :func:`multi_pose_decode`. Predictions
    are in network-input pixels: ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K) all 1 (the
    original writes visibility 1 and has no per-joint score, so mmpose's ``bbox`` and
    ``bbox_keypoint`` score modes both rank persons by the centre score), ``keypoints_visible``
    (N, K) all 1, ``bboxes`` (N, 4), ``bbox_scores`` (N, ) = centre scores, in decreasing order.

    Args:
        in_channels: Channels of the feature map(s).
        num_keypoints: Joints per person.
        head_conv: Channels of each branch's 3x3 conv.
        num_stacks: Feature maps (stacks) the head receives.
        branch_init: Initialisation of non-heatmap branches (see :class:`CenterNetHeadModule`).
        stride: Input pixels per output pixel (the original's ``down_ratio``).
        max_objs: Person slots per training image.
        min_overlap: Gaussian radius rule parameter.
        flip_indices: Joint permutation of a mirrored person, used when the data samples carry
            none (COCO's by default).
        loss_heatmap, loss_wh, loss_offset, loss_hps, loss_hm_hp, loss_hp_offset: Loss configs
            (weights 1, 0.1, 1, 1, 1, 1: ``hm``, ``wh``, ``off``, ``hp``, ``hm_hp`` and
            ``off`` weights of the original).
        test_cfg: ``flip_test`` (bool), ``topk`` (100), ``hm_hp_thresh`` (0.1),
            ``dist_ratio`` (0.3), ``local_maximum_kernel`` (3).
        init_cfg: mmengine initialisation config.
        loss_hm: Deprecated name of ``loss_heatmap`` (merged into it).
        reg_offset: The centre offset branch ``reg`` (the original's ``--not_reg_offset``:
            ``False``; decoding then adds 0.5).
        hm_hp: The joint heat maps ``hm_hp`` (``--not_hm_hp``: ``False``; decoding then keeps
            the regressed joints, and there is no ``hp_offset`` either).
        reg_hp_offset: The joint offsets ``hp_offset`` (``--not_reg_hp_offset``: ``False``;
            snapped joints then sit at the peak cell + 0.5).
        dense_hp: The original's ``--dense_hp``: joint displacements regressed densely over each
            person's Gaussian (``dense_hps`` targets, :class:`CenterNetDenseL1Loss` with
            ``loss_hps``'s weight).
        reg_bbox: ``--not_reg_bbox`` (``False``) is accepted and changes nothing for multi_pose,
            as in the original.
        radius_rule: ``'faithful'`` (the original's Gaussian radius) or ``'corrected'``
            (docs/options.md).
    """

    task = 'multi_pose'
    TEST_DEFAULTS = dict(topk=100, hm_hp_thresh=0.1, dist_ratio=0.3, local_maximum_kernel=3)
    FLIP_RULES = POSE_FLIP_RULES

    def __init__(self,
                 in_channels: int = 64,
                 num_keypoints: int = 17,
                 head_conv: int = 256,
                 num_stacks: int = 1,
                 branch_init: str = 'zero_bias',
                 stride: int = 4,
                 max_objs: int = 32,
                 min_overlap: float = 0.7,
                 flip_indices: Optional[Sequence[int]] = None,
                 loss_heatmap: dict = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_wh: dict = dict(type='CenterNetRegL1Loss', loss_weight=0.1),
                 loss_offset: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 loss_hps: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 loss_hm_hp: dict = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_hp_offset: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 loss_hm: Optional[dict] = None,
                 reg_offset: bool = True,
                 hm_hp: bool = True,
                 reg_hp_offset: bool = True,
                 dense_hp: bool = False,
                 reg_bbox: bool = True,
                 radius_rule: str = 'faithful') -> None:
        super().__init__(init_cfg=init_cfg)
        if not reg_bbox:
            warnings.warn('CenterNetPoseHead: reg_bbox=False (--not_reg_bbox) changes nothing '
                          'for multi_pose, as in the original (its multi_pose heads always have '
                          '`wh`)')
        # the original's opt.reg_hp_offset = not --not_reg_hp_offset and opt.hm_hp
        self.reg_offset, self.hm_hp, self.dense_hp = reg_offset, hm_hp, dense_hp
        self.reg_hp_offset = reg_hp_offset and hm_hp
        enabled = dict(reg=self.reg_offset, hm_hp=self.hm_hp, hp_offset=self.reg_hp_offset)
        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.num_stacks = num_stacks
        self.stride = stride
        channels = dict(hm=1, wh=2, hps=2 * num_keypoints, reg=2, hm_hp=num_keypoints,
                        hp_offset=2)
        self.head_module = CenterNetHeadModule(
            in_channels, {name: channels[name] for name in BRANCHES if enabled.get(name, True)},
            head_conv=head_conv,
            num_stacks=num_stacks, branch_init=branch_init)
        self.target_generator = CenterNetPoseTargetGenerator(num_keypoints, max_objs, min_overlap,
                                                             radius_rule=radius_rule)
        if flip_indices is not None:
            _check_flip_indices(flip_indices, num_keypoints, 'head.flip_indices')
            self.flip_pairs = _pairs_from_indices(flip_indices)
        else:  # COCO's pairs for COCO's 17 joints; other sets bring theirs (metainfo)
            self.flip_pairs = COCO_FLIP_PAIRS if num_keypoints == 17 else None
        self.loss_heatmap = POSE_MODELS.build(renamed_loss_cfg(
            type(self).__name__, 'loss_heatmap', loss_heatmap, 'loss_hm', loss_hm))
        self.loss_wh = POSE_MODELS.build(loss_wh)
        self.loss_offset = POSE_MODELS.build(loss_offset)
        self.loss_hps = POSE_MODELS.build(loss_hps)
        if dense_hp:  # the original's --dense_hp: an L1 sum over the dense maps
            self.loss_hps = POSE_MODELS.build(dict(type='CenterNetDenseL1Loss',
                                                   loss_weight=self.loss_hps.loss_weight))
        self.loss_hm_hp = POSE_MODELS.build(loss_hm_hp)
        self.loss_hp_offset = POSE_MODELS.build(loss_hp_offset)
        self.test_cfg = resolve_test_cfg(type(self).__name__, test_cfg, self.TEST_DEFAULTS)

    def init_weights(self) -> None:
        # The branches are initialised at construction (CenterNet's rule); a Pretrained
        # init_cfg may still override them.
        if self.init_cfg:
            super().init_weights()

    # ------------------------------------------------------------------ forward
    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Args:
            feats: One (B, in_channels, H/4, W/4) map per stack.

        Returns:
            Raw maps, stack-major, each stack in the order ``hm, wh, hps, reg, hm_hp, hp_offset``.
        """
        return self.head_module(list(feats))

    def split_stacks(self, outs: Sequence[Tensor]) -> List[Dict[str, Tensor]]:
        """``{branch: map}`` per stack from the flat output of :meth:`forward`."""
        return self.head_module.split(outs)

    # ------------------------------------------------------------------ training
    def loss(self, feats: Tuple[Tensor], batch_data_samples: Sequence,
             train_cfg: Optional[dict] = None) -> dict:
        stacks = self.split_stacks(self.forward(feats))
        return self.loss_by_targets(stacks, self.targets_of(batch_data_samples, stacks[0]['hm']))

    def targets_of(self, batch_data_samples: Sequence, hm: Tensor) -> Dict[str, Tensor]:
        """The training targets of the samples' ground truth on maps the size of ``hm``."""
        bboxes, keypoints, visible, rotated = [], [], [], []
        for sample in batch_data_samples:
            gt = sample.gt_instances
            n = len(gt) if 'bboxes' in gt else 0
            bboxes.append(self._as_tensor(gt.bboxes if n else np.zeros((0, 4)), hm))
            keypoints.append(self._as_tensor(
                gt.keypoints if n else np.zeros((0, self.num_keypoints, 2)), hm))
            if n and 'keypoints_visible' in gt:
                visible.append(self._as_tensor(gt.keypoints_visible, hm))
            else:
                visible.append(torch.ones(keypoints[-1].shape[:2], device=hm.device))
            rotated.append(float(sample.metainfo.get('centernet_rot', 0) or 0) != 0)
        with torch.no_grad():
            return self.target_generator(bboxes, keypoints, visible, hm.shape[-2:],
                                         stride=self.stride, rotated=rotated,
                                         dense_hp=self.dense_hp)

    def loss_by_targets(self, stacks: Sequence[Dict[str, Tensor]],
                        targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The original ``MultiPoseLoss`` on per-stack raw maps and ready-made targets.

        Args:
            stacks: ``{branch: raw map}`` per stack.
            targets: Output of :class:`CenterNetPoseTargetGenerator` (same keys).

        Returns:
            ``loss_heatmap``, ``loss_wh``, ``loss_offset``, ``loss_hps``, ``loss_hm_hp``,
            ``loss_hp_offset`` (weighted, averaged over stacks); their sum is the original loss.
        """
        t = targets
        n = len(stacks)
        losses = {}

        def add(name: str, value: Tensor) -> None:
            losses[name] = losses.get(name, 0) + value / n

        for maps in stacks:
            add('loss_heatmap', self.loss_heatmap(maps['hm'], t['hm']))
            add('loss_wh', self.loss_wh(maps['wh'], t['reg_mask'], t['ind'], t['wh']))
            if 'reg' in maps:
                add('loss_offset', self.loss_offset(maps['reg'], t['reg_mask'], t['ind'],
                                                    t['reg']))
            if self.dense_hp:
                add('loss_hps', self.loss_hps(maps['hps'], t['dense_hps_mask'], t['dense_hps']))
            else:
                add('loss_hps', self.loss_hps(maps['hps'], t['hps_mask'], t['ind'], t['hps']))
            if 'hm_hp' in maps:
                add('loss_hm_hp', self.loss_hm_hp(maps['hm_hp'], t['hm_hp']))
            if 'hp_offset' in maps:
                add('loss_hp_offset', self.loss_hp_offset(maps['hp_offset'], t['hp_mask'],
                                                          t['hp_ind'], t['hp_offset']))
        return losses

    @property
    def loss_hm(self) -> torch.nn.Module:
        """Deprecated name of :attr:`loss_heatmap`."""
        return self.loss_heatmap

    @staticmethod
    def _as_tensor(value, ref: Tensor) -> Tensor:
        return torch.as_tensor(np.asarray(value) if not isinstance(value, Tensor) else value,
                               dtype=torch.float32, device=ref.device)

    # ------------------------------------------------------------------ testing
    def predict(self,
                feats: Union[Tuple[Tensor], List[Tuple[Tensor]]],
                batch_data_samples: Sequence,
                test_cfg: Optional[dict] = None) -> List[InstanceData]:
        """Decode persons in network-input pixels.

        Args:
            feats: The stacks' feature maps, or with ``test_cfg.flip_test`` a pair
                ``[feats, feats_of_the_mirrored_input]`` (mmpose's bottom-up convention).
            batch_data_samples: Data samples (``flip_indices`` is read from their metainfo).
            test_cfg: Overrides ``self.test_cfg``.
        """
        cfg = dict(self.test_cfg)
        cfg.update(test_cfg or {})
        if cfg.get('multiscale_test', False):
            raise NotImplementedError(
                "CenterNetPoseHead decodes one scale; mmpose's multiscale_test is not used: the "
                "original's multi-scale test is CenterNetPoseTTAModel (tools/test.py --tta)")
        if cfg.get('flip_test', False):
            if not (isinstance(feats, (list, tuple)) and len(feats) == 2 and
                    isinstance(feats[0], (list, tuple))):
                raise ValueError('flip_test needs feats = [feats, feats_flipped]')
            # sigmoid and decoding in fp32 whatever precision the network ran in (fp16 / AMP)
            maps = self.last_stack_maps(self.forward(feats[0]))
            maps_flip = self.last_stack_maps(self.forward(feats[1]))
            merged = merge_flip_outputs(maps, maps_flip, self._flip_pairs(batch_data_samples))
            return self.to_instances(self.decode_maps(merged, cfg))
        oracle = tuple(cfg.get('oracle') or ())
        if oracle:
            maps = self.last_stack_maps(self.forward(feats))
            maps['hm'] = maps['hm'].sigmoid()
            if 'hm_hp' in maps:
                maps['hm_hp'] = maps['hm_hp'].sigmoid()
            self.apply_oracle(maps, batch_data_samples, oracle)
            return self.to_instances(self.decode_maps(maps, cfg))
        return self.to_instances(self.decode_outputs(self.forward(feats), cfg))

    #: Maps the error analysis can replace (the original's ``--eval_oracle_hm``, ``_kps``,
    #: ``_hmhp`` and ``_hp_offset``).
    ORACLE_MAPS = ('hm', 'kps', 'hmhp', 'hp_offset')

    def apply_oracle(self, maps: Dict[str, Tensor], batch_data_samples: Sequence,
                     oracle: Sequence[str]) -> None:
        """Replace predicted maps (heat maps as probabilities) by the ground truth of the
        samples, in place, as the original's multi_pose error analysis: ``hm``, ``hm_hp``
        (``hmhp``) directly, ``hps`` (``kps``) and ``hp_offset`` spread from the centre / joint
        cells (:func:`~mmcenternet.models.utils.oracle.oracle_map`; ``dense_hps`` with
        ``dense_hp``)."""
        unknown = sorted(set(oracle) - set(self.ORACLE_MAPS))
        if unknown:
            raise ValueError(f'test_cfg.oracle: unknown map(s) {unknown}; choose from '
                             f'{self.ORACLE_MAPS}')
        if not batch_data_samples or any('gt_instances' not in s or 'bboxes' not in
                                         s.gt_instances for s in batch_data_samples):
            raise ValueError('test_cfg.oracle needs the ground truth of the test images (boxes '
                             'and keypoints in the test samples)')
        missing = [m for m, b in (('hmhp', 'hm_hp'), ('hp_offset', 'hp_offset'))
                   if m in oracle and b not in maps]
        if missing:
            raise ValueError(f'test_cfg.oracle {missing}: this head has no such branch')
        h, w = maps['hm'].shape[-2:]
        t = self.targets_of(batch_data_samples, maps['hm'])
        if 'hm' in oracle:
            maps['hm'] = t['hm']
        if 'hmhp' in oracle:
            maps['hm_hp'] = t['hm_hp']
        if 'kps' in oracle:
            maps['hps'] = t['dense_hps'] if self.dense_hp else oracle_map(t['hps'], t['ind'], h, w)
        if 'hp_offset' in oracle:
            maps['hp_offset'] = oracle_map(t['hp_offset'], t['hp_ind'], h, w)

    def decode_outputs(self, outs: Sequence[Tensor],
                       cfg: Optional[dict] = None) -> Dict[str, Tensor]:
        """Last stack -> fp32 -> sigmoid of ``hm`` / ``hm_hp`` -> :meth:`decode_maps`."""
        maps = self.last_stack_maps(outs)
        maps = dict(maps, hm=maps['hm'].sigmoid())
        if 'hm_hp' in maps:
            maps['hm_hp'] = maps['hm_hp'].sigmoid()
        return self.decode_maps(maps, cfg)

    def results_from_decoded(self, decoded: Dict[str, Tensor], batch_img_metas: List[dict],
                             rescale: bool = True) -> List[InstanceData]:
        """Per-image instances in network-input pixels (the estimator maps them back to the
        image, so ``batch_img_metas`` and ``rescale`` are not used here)."""
        return self.to_instances(decoded)

    def decode_maps(self, maps: Dict[str, Tensor], cfg: Optional[dict] = None) -> Dict[str, Tensor]:
        """Tensor-only decoding of (merged) maps with probabilities for ``hm`` / ``hm_hp``.

        Returns:
            :func:`multi_pose_decode`'s output with boxes and joints in network-input pixels.
        """
        cfg = dict(self.test_cfg, **(cfg or {}))
        dets = multi_pose_decode(
            maps['hm'], maps['wh'], maps['hps'], maps.get('reg'), maps.get('hm_hp'),
            maps.get('hp_offset'), k=cfg['topk'], hm_hp_thresh=cfg['hm_hp_thresh'],
            dist_ratio=cfg['dist_ratio'], kernel=cfg['local_maximum_kernel'])
        dets['bboxes'] = dets['bboxes'] * self.stride
        dets['keypoints'] = dets['keypoints'] * self.stride
        return dets

    def to_instances(self, dets: Dict[str, Tensor]) -> List[InstanceData]:
        results = []
        for i in range(dets['scores'].shape[0]):
            kps = dets['keypoints'][i].detach().cpu().numpy()
            ones = np.ones(kps.shape[:2], dtype=np.float32)
            results.append(
                InstanceData(
                    keypoints=kps,
                    keypoint_scores=ones,
                    keypoints_visible=ones.copy(),
                    bboxes=dets['bboxes'][i].detach().cpu().numpy(),
                    bbox_scores=dets['scores'][i].detach().cpu().numpy()))
        return results

    def _flip_pairs(self, batch_data_samples: Sequence) -> Sequence[Tuple[int, int]]:
        if batch_data_samples:
            indices = batch_data_samples[0].metainfo.get('flip_indices')
            if indices is not None:
                _check_flip_indices(indices, self.num_keypoints, 'the dataset\'s flip_indices')
                return _pairs_from_indices(indices)
        if self.flip_pairs is None:
            raise ValueError(f'the flip test needs the flip pairs of the {self.num_keypoints} '
                             'keypoints: give the dataset a metainfo with `swap` entries or set '
                             'model.head.flip_indices')
        return self.flip_pairs

    # ------------------------------------------------------------------ test-time augmentation
    def tta_predict_view(self, model, inputs: Tensor, samples: Sequence, flip: bool) -> list:
        """One view through the estimator's own test path (its flip test when ``flip``), mapped
        back to the image: per image, its ``pred_instances``."""
        feats = model.extract_feat(inputs)
        if flip:
            feats = [feats, model.extract_feat(inputs.flip(-1))]
        preds = self.predict(feats, samples, test_cfg=dict(flip_test=flip))
        samples = model.add_pred_to_datasample(preds, None, samples)
        return [s.pred_instances for s in samples]

    def tta_merge(self, views: Sequence[InstanceData], soft_nms: Optional[dict] = None,
                  max_per_img: Optional[int] = None,
                  nms_single_scale: bool = False) -> InstanceData:
        """The original ``merge_outputs``: the views' person rows concatenated in scale order,
        re-scored in place by ``soft_nms_39`` with several views (or ``nms_single_scale``),
        every row kept (stale rows too) and no score cut (``max_per_img`` is not used).

        Returns:
            ``keypoints`` (N, K, 2), ``bboxes`` (N, 4), ``bbox_scores`` (N, ),
            ``keypoint_scores`` / ``keypoints_visible`` (N, K) all 1, N = the views' persons.
        """
        cfg = soft_nms_settings(soft_nms)
        if cfg['mode'] != 'faithful':
            raise ValueError("soft_nms.mode: the multi_pose merge has only the original's "
                             f"('faithful') soft_nms_39, got {cfg['mode']!r}")
        rows = [self._rows(v) for v in views]
        num_joints = (rows[0].shape[1] - 5) // 2
        out = merge_multi_pose_outputs(
            rows, run_nms=len(rows) > 1 or nms_single_scale, sigma=cfg['sigma'],
            nt=cfg['iou_threshold'], threshold=cfg['min_score'], method=cfg['method'])
        pred = InstanceData()
        pred.bboxes = out[:, :4]
        pred.bbox_scores = out[:, 4]
        pred.keypoints = out[:, 5:].reshape(-1, num_joints, 2)
        pred.keypoint_scores = np.ones((len(out), num_joints), np.float32)
        pred.keypoints_visible = pred.keypoint_scores
        return pred

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

    # ------------------------------------------------------------------ export
    def export_decoder(self, test_cfg: Optional[dict] = None) -> MultiPoseDecoder:
        """:class:`MultiPoseDecoder` (no flip test) with this head's branches and settings."""
        cfg = dict(self.test_cfg, **(test_cfg or {}))
        return MultiPoseDecoder(list(self.head_module.heads), self.num_stacks, cfg['topk'],
                                cfg['local_maximum_kernel'], float(self.stride),
                                cfg['hm_hp_thresh'], cfg['dist_ratio'])
