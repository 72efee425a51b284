# Copyright (c) mmcenternet contributors. All rights reserved.
"""What every CenterNet detection head shares: per-stack branches and the forward contract."""
from typing import Dict, List, Sequence, Tuple

from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.structures import SampleList
from torch import Tensor


class CenterNetBaseHead(BaseDenseHead):
    """Base of the ``ctdet`` and ``exdet`` heads.

    Subclasses create ``self.head_module`` (a :class:`CenterNetHeadModule`) and implement
    ``loss_by_feat(outs, batch_gt_instances)`` and ``predict``.
    """

    def init_weights(self) -> None:
        # BaseDenseHead zeroes every ``conv_offset``; the branches are set at construction.
        if self.init_cfg:
            super(BaseDenseHead, self).init_weights()

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Args:
            feats: One (B, in_channels, H/4, W/4) map per stack.

        Returns:
            Raw maps (heat maps as logits), stack-major, each stack in the original's head
            order.
        """
        return self.head_module(feats)

    def split_stacks(self, outs: Sequence[Tensor]) -> List[Dict[str, Tensor]]:
        """``{branch: map}`` per stack from the flat output of :meth:`forward`."""
        return self.head_module.split(outs)

    def loss(self, x: Tuple[Tensor], batch_data_samples: SampleList) -> dict:
        outs = self(x)
        return self.loss_by_feat(outs, [ds.gt_instances for ds in batch_data_samples])
