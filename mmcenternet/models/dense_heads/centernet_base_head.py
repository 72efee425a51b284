# Copyright (c) mmcenternet contributors. All rights reserved.
"""What every CenterNet detection head shares: per-stack branches and the forward contract."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.structures import SampleList
from torch import Tensor

from .centernet_head_module import CenterNetHeadModule
from .task_head import CenterNetTaskHead


class CenterNetBaseHead(CenterNetTaskHead, BaseDenseHead):
    """Base of the ``ctdet`` and ``exdet`` heads.

    Builds the per-stack branches (``self.head_module``, a :class:`CenterNetHeadModule`);
    subclasses pass their branch layout and implement ``loss_by_feat(outs,
    batch_gt_instances)`` and the test interface of :class:`CenterNetTaskHead`
    (``predict`` decodes and post-processes through it).

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the feature map(s).
        heads: ``{branch name: output channels}`` in the original's head order.
        head_conv: Channels of each branch's 3x3 conv.
        num_stacks: Feature maps (stacks) the head receives.
        branch_init: Initialisation of the non-heat-map branches.
        stride: Input pixels per output pixel (CenterNet's ``down_ratio``).
        train_cfg: Unused, for API compatibility.
        test_cfg: Test settings (a copy is kept).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 heads: Dict[str, int],
                 head_conv: int,
                 num_stacks: int,
                 branch_init: str,
                 stride: int,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.stride = stride
        self.num_stacks = num_stacks
        self.head_module = CenterNetHeadModule(
            in_channels, heads, head_conv=head_conv, num_stacks=num_stacks,
            branch_init=branch_init)
        self.train_cfg = train_cfg
        self.test_cfg = dict(test_cfg) if test_cfg is not None else dict()

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

    def predict(self, x: Tuple[Tensor], batch_data_samples: SampleList,
                rescale: bool = False) -> list:
        outs = self(x)
        metas = [ds.metainfo for ds in batch_data_samples]
        return self.predict_by_feat(outs, batch_img_metas=metas, rescale=rescale)

    def predict_by_feat(self, outs: Sequence[Tensor], batch_img_metas: List[dict],
                        rescale: bool = True) -> list:
        """Decode the last stack's raw maps, then post-process per image."""
        return self.results_from_decoded(self.decode_outputs(outs), batch_img_metas, rescale)
