# Copyright (c) mmcenternet contributors. All rights reserved.
"""The convolutional branches of a CenterNet head (no loss, no decoding)."""
from typing import Dict, List, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmcenternet.registry import register_shared

#: CenterNet fills the last bias of every heatmap branch with this value (not -log(9) = -2.1972).
HEATMAP_BIAS = -2.19


@register_shared
class CenterNetHeadModule(BaseModule):
    """One branch per output map (``3x3 conv -> ReLU -> 1x1 conv``) and per stack.

    Parameters are named ``<branch>.<stack>.{0,2}.{weight,bias}`` (``head_conv=0``: a single
    ``<branch>.<stack>.0`` 1x1 conv). Branches whose name contains ``'hm'`` are heatmaps.

    Args:
        in_channels: Channels of the feature map of each stack.
        heads: Ordered ``{branch name: output channels}``, e.g. ``dict(hm=80, wh=2, reg=2)``; the
            order is the output order.
        head_conv: Channels of the 3x3 conv (256 for DLA and Hourglass, 64 for ResNet-DCN).
        num_stacks: Number of feature maps (2 for Hourglass-104), each with its own branches.
        branch_init: How non-heatmap branches are initialised, as in the original networks:
            ``'zero_bias'`` (DLA: default weights, zero biases), ``'normal'`` (ResNet-DCN: weights
            N(0, 0.001), zero biases) or ``'default'`` (Hourglass: PyTorch defaults).
        heatmap_bias: Last bias of heatmap branches.
    """

    def __init__(self,
                 in_channels: int,
                 heads: Dict[str, int],
                 head_conv: int = 256,
                 num_stacks: int = 1,
                 branch_init: str = 'zero_bias',
                 heatmap_bias: float = HEATMAP_BIAS,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if branch_init not in ('zero_bias', 'normal', 'default'):
            raise ValueError(f'branch_init must be zero_bias, normal or default, got {branch_init}')
        self.in_channels = in_channels
        self.heads = dict(heads)
        self.head_conv = head_conv
        self.num_stacks = num_stacks
        self.branch_init = branch_init
        self.heatmap_bias = heatmap_bias
        for name, channels in self.heads.items():
            setattr(self, name,
                    nn.ModuleList([self._branch(channels) for _ in range(num_stacks)]))
        self.reset_branches()

    def _branch(self, out_channels: int) -> nn.Sequential:
        if self.head_conv > 0:
            return nn.Sequential(
                nn.Conv2d(self.in_channels, self.head_conv, 3, padding=1, bias=True),
                nn.ReLU(inplace=True), nn.Conv2d(self.head_conv, out_channels, 1, bias=True))
        return nn.Sequential(nn.Conv2d(self.in_channels, out_channels, 1, bias=True))

    def reset_branches(self) -> None:
        """Apply CenterNet's head initialisation (also run at construction)."""
        for name in self.heads:
            for branch in getattr(self, name):
                convs = [m for m in branch if isinstance(m, nn.Conv2d)]
                if 'hm' in name:
                    nn.init.constant_(convs[-1].bias, self.heatmap_bias)
                    continue
                for conv in convs:
                    if self.branch_init == 'normal':
                        nn.init.normal_(conv.weight, std=0.001)
                    if self.branch_init != 'default':
                        nn.init.constant_(conv.bias, 0)

    def init_weights(self) -> None:
        # Branch weights are set at construction; a Pretrained init_cfg may override them.
        if self.init_cfg:
            super().init_weights()

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Args:
            feats: ``num_stacks`` maps of shape (B, in_channels, h, w).

        Returns:
            All raw maps, stack-major in branch order: ``(hm_0, wh_0, reg_0, hm_1, ...)``.
        """
        if len(feats) != self.num_stacks:
            raise ValueError(f'expected {self.num_stacks} feature maps, got {len(feats)}')
        outs = []
        for s, feat in enumerate(feats):
            for name in self.heads:
                outs.append(getattr(self, name)[s](feat))
        return tuple(outs)

    def split(self, outs: Sequence[Tensor]) -> List[Dict[str, Tensor]]:
        """Group the flat output of :meth:`forward` into one ``{branch: map}`` dict per stack."""
        n = len(self.heads)
        return [dict(zip(self.heads, outs[s * n:(s + 1) * n])) for s in range(self.num_stacks)]
