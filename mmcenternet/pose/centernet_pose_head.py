# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet ``multi_pose`` head for mmpose: six branches, the original losses and decoding."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from torch import Tensor

from mmcenternet.models.dense_heads.centernet_head_module import CenterNetHeadModule
from mmcenternet.registry import POSE_MODELS
from .decode import COCO_FLIP_PAIRS, merge_flip_outputs, multi_pose_decode
from .targets import CenterNetPoseTargetGenerator

__all__ = ['CenterNetPoseHead']

#: Branch order of the original ``multi_pose`` network (also the order of the raw outputs).
BRANCHES = ('hm', 'wh', 'hps', 'reg', 'hm_hp', 'hp_offset')


def _pairs_from_indices(flip_indices: Sequence[int]) -> List[Tuple[int, int]]:
    return [(i, int(j)) for i, j in enumerate(flip_indices) if i < int(j)]


@POSE_MODELS.register_module()
class CenterNetPoseHead(BaseHead):
    """The ``multi_pose`` head of "Objects as Points", faithful to the original.

    Branches per stack (raw outputs in this order): ``hm`` (1, person centre logits), ``wh`` (2),
    ``hps`` (2K joint displacements from the centre), ``reg`` (2), ``hm_hp`` (K joint logits),
    ``hp_offset`` (2), each ``3x3 conv -> ReLU -> 1x1 conv`` (see :class:`CenterNetHeadModule`).

    Training: targets from :class:`CenterNetPoseTargetGenerator`; loss terms ``loss_hm`` (focal on
    the clamped sigmoid), ``loss_wh`` (x0.1), ``loss_offset``, ``loss_hps`` (per-coordinate
    weighted L1), ``loss_hm_hp`` (focal) and ``loss_hp_offset``, each divided by the number of
    stacks and summed over stacks, as the original ``MultiPoseLoss``.

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
        loss_hm, loss_wh, loss_offset, loss_hps, loss_hm_hp, loss_hp_offset: Loss configs
            (weights 1, 0.1, 1, 1, 1, 1: ``hm``, ``wh``, ``off``, ``hp``, ``hm_hp`` and
            ``off`` weights of the original).
        test_cfg: ``flip_test`` (bool), ``topk`` (100), ``hm_hp_thresh`` (0.1),
            ``dist_ratio`` (0.3), ``local_maximum_kernel`` (3).
        init_cfg: mmengine initialisation config.
    """

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
                 loss_hm: dict = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_wh: dict = dict(type='CenterNetRegL1Loss', loss_weight=0.1),
                 loss_offset: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 loss_hps: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 loss_hm_hp: dict = dict(type='CenterNetFocalLoss', loss_weight=1.0),
                 loss_hp_offset: dict = dict(type='CenterNetRegL1Loss', loss_weight=1.0),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.num_stacks = num_stacks
        self.stride = stride
        channels = dict(hm=1, wh=2, hps=2 * num_keypoints, reg=2, hm_hp=num_keypoints,
                        hp_offset=2)
        self.head_module = CenterNetHeadModule(
            in_channels, {name: channels[name] for name in BRANCHES}, head_conv=head_conv,
            num_stacks=num_stacks, branch_init=branch_init)
        self.target_generator = CenterNetPoseTargetGenerator(num_keypoints, max_objs, min_overlap)
        self.flip_pairs = COCO_FLIP_PAIRS if flip_indices is None else \
            _pairs_from_indices(flip_indices)
        self.loss_hm = POSE_MODELS.build(loss_hm)
        self.loss_wh = POSE_MODELS.build(loss_wh)
        self.loss_offset = POSE_MODELS.build(loss_offset)
        self.loss_hps = POSE_MODELS.build(loss_hps)
        self.loss_hm_hp = POSE_MODELS.build(loss_hm_hp)
        self.loss_hp_offset = POSE_MODELS.build(loss_hp_offset)
        self.test_cfg = dict(test_cfg) if test_cfg else {}

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
        hm = stacks[0]['hm']
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
            targets = self.target_generator(bboxes, keypoints, visible, hm.shape[-2:],
                                            stride=self.stride, rotated=rotated)
        return self.loss_by_targets(stacks, targets)

    def loss_by_targets(self, stacks: Sequence[Dict[str, Tensor]],
                        targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The original ``MultiPoseLoss`` on per-stack raw maps and ready-made targets.

        Args:
            stacks: ``{branch: raw map}`` per stack.
            targets: Output of :class:`CenterNetPoseTargetGenerator` (same keys).

        Returns:
            ``loss_hm``, ``loss_wh``, ``loss_offset``, ``loss_hps``, ``loss_hm_hp``,
            ``loss_hp_offset`` (weighted, averaged over stacks); their sum is the original loss.
        """
        t = targets
        n = len(stacks)
        losses = {}

        def add(name: str, value: Tensor) -> None:
            losses[name] = losses.get(name, 0) + value / n

        for maps in stacks:
            add('loss_hm', self.loss_hm(maps['hm'], t['hm']))
            add('loss_wh', self.loss_wh(maps['wh'], t['reg_mask'], t['ind'], t['wh']))
            add('loss_offset', self.loss_offset(maps['reg'], t['reg_mask'], t['ind'], t['reg']))
            add('loss_hps', self.loss_hps(maps['hps'], t['hps_mask'], t['ind'], t['hps']))
            add('loss_hm_hp', self.loss_hm_hp(maps['hm_hp'], t['hm_hp']))
            add('loss_hp_offset', self.loss_hp_offset(maps['hp_offset'], t['hp_mask'],
                                                      t['hp_ind'], t['hp_offset']))
        return losses

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
            maps = {n: m.float() for n, m in self.split_stacks(self.forward(feats[0]))[-1].items()}
            maps_flip = {
                n: m.float()
                for n, m in self.split_stacks(self.forward(feats[1]))[-1].items()
            }
            merged = merge_flip_outputs(maps, maps_flip, self._flip_pairs(batch_data_samples))
        else:
            maps = {n: m.float() for n, m in self.split_stacks(self.forward(feats))[-1].items()}
            merged = dict(maps, hm=maps['hm'].sigmoid(), hm_hp=maps['hm_hp'].sigmoid())
        dets = self.decode_maps(merged, cfg)
        return self.to_instances(dets)

    def decode_maps(self, maps: Dict[str, Tensor], cfg: Optional[dict] = None) -> Dict[str, Tensor]:
        """Tensor-only decoding of (merged) maps with probabilities for ``hm`` / ``hm_hp``.

        Returns:
            :func:`multi_pose_decode`'s output with boxes and joints in network-input pixels.
        """
        cfg = self.test_cfg if cfg is None else cfg
        dets = multi_pose_decode(
            maps['hm'], maps['wh'], maps['hps'], maps.get('reg'), maps.get('hm_hp'),
            maps.get('hp_offset'), k=cfg.get('topk', 100),
            hm_hp_thresh=cfg.get('hm_hp_thresh', 0.1), dist_ratio=cfg.get('dist_ratio', 0.3),
            kernel=cfg.get('local_maximum_kernel', 3))
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
                if len(indices) != self.num_keypoints:
                    raise ValueError(f'flip_indices has {len(indices)} entries, the head '
                                     f'predicts {self.num_keypoints} keypoints')
                return _pairs_from_indices(indices)
        return self.flip_pairs
