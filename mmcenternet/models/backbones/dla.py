# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deep Layer Aggregation (Yu et al., 2018) as used by CenterNet.

The module and attribute names (``base_layer``, ``level0`` ... ``level5``, ``tree1``, ``tree2``,
``root``, ``project``) are those of the DLA authors' and CenterNet's code, so their checkpoints map
onto this backbone by a prefix change only (``base.`` -> ``backbone.``); the ImageNet classifier
``fc`` is not part of this module.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmcenternet.registry import register_shared

BN_MOMENTUM = 0.1


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)


class DLABasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual that the caller may supply.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the first convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = _bn(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = _bn(out_channels)

    def forward(self, x: Tensor, residual: Optional[Tensor] = None) -> Tensor:
        if residual is None:
            residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class DLARoot(nn.Module):
    """Aggregation node: 1x1 convolution over the concatenated children, BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, residual: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, 1, 0, bias=False)
        self.bn = _bn(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual

    def forward(self, *children: Tensor) -> Tensor:
        out = self.bn(self.conv(torch.cat(children, 1)))
        if self.residual:
            out = out + children[0]
        return self.relu(out)


class DLATree(nn.Module):
    """Hierarchical aggregation tree of ``levels`` levels of basic blocks.

    Args:
        levels: Depth of the tree (1 = two blocks and a root).
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Down-sampling of this tree (max-pool for the shortcut path).
        level_root: Whether the down-sampled input joins the root of this tree.
        root_dim: Input channels of the root; 0 means ``2 * out_channels``.
        root_residual: Residual connection inside the root (False for DLA-34).
    """

    def __init__(self,
                 levels: int,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 level_root: bool = False,
                 root_dim: int = 0,
                 root_residual: bool = False) -> None:
        super().__init__()
        if root_dim == 0:
            root_dim = 2 * out_channels
        if level_root:
            root_dim += in_channels
        self.levels = levels
        self.level_root = level_root
        if levels == 1:
            self.tree1 = DLABasicBlock(in_channels, out_channels, stride)
            self.tree2 = DLABasicBlock(out_channels, out_channels, 1)
            self.root = DLARoot(root_dim, out_channels, root_residual)
        else:
            self.tree1 = DLATree(levels - 1, in_channels, out_channels, stride,
                                 root_dim=0, root_residual=root_residual)
            # The second subtree's root also receives the outer children.
            self.tree2 = DLATree(levels - 1, out_channels, out_channels, 1,
                                 root_dim=root_dim + out_channels, root_residual=root_residual)
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
        self.project = None
        if in_channels != out_channels:
            self.project = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, 1, bias=False), _bn(out_channels))

    def forward(self,
                x: Tensor,
                residual: Optional[Tensor] = None,
                children: Optional[List[Tensor]] = None) -> Tensor:
        children = [] if children is None else children
        bottom = self.downsample(x) if self.downsample is not None else x
        residual = self.project(bottom) if self.project is not None else bottom
        if self.level_root:
            children.append(bottom)
        if self.levels == 1:
            x1 = self.tree1(x, residual)
            x2 = self.tree2(x1)
            return self.root(x2, x1, *children)
        # A subtree computes its own residual; the one computed here is unused (as in DLA).
        x1 = self.tree1(x)
        children.append(x1)
        return self.tree2(x1, children=children)


@register_shared
class DLA(BaseModule):
    """DLA backbone returning the outputs of ``level0`` ... ``level5``.

    Feature contract (``feature_info``): level ``i`` has ``channels[i]`` channels at stride
    ``2 ** i``; ``out_indices`` selects which levels are returned.

    Args:
        depth: Only 34 (CenterNet's ``dla_34``).
        out_indices: Levels to return (default: all six, as the DLA-up neck expects).
        norm_eval: Keep BatchNorm layers in eval mode during training.
        init_cfg: mmengine initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint='dla34-ba72cf86.pth')`` (the DLA authors'
            ImageNet file loads directly: its keys are this module's).

    Example:
        >>> import torch
        >>> m = DLA(34).eval()
        >>> [tuple(o.shape) for o in m(torch.zeros(1, 3, 64, 64))][-1]
        (1, 512, 2, 2)
    """

    arch_settings = {
        34: dict(levels=(1, 1, 1, 2, 2, 1), channels=(16, 32, 64, 128, 256, 512)),
    }

    def __init__(self,
                 depth: int = 34,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4, 5),
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'DLA depth {depth} is not supported; choose from '
                           f'{sorted(self.arch_settings)}')
        levels = self.arch_settings[depth]['levels']
        channels = self.arch_settings[depth]['channels']
        self.depth = depth
        self.channels = tuple(channels)
        self.out_indices = tuple(out_indices)
        self.norm_eval = norm_eval
        self.feature_info = [
            dict(num_chs=c, reduction=2**i, module=f'level{i}') for i, c in enumerate(channels)
        ]
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, channels[0], 7, 1, 3, bias=False), _bn(channels[0]),
            nn.ReLU(inplace=True))
        self.level0 = self._conv_level(channels[0], channels[0], levels[0], stride=1)
        self.level1 = self._conv_level(channels[0], channels[1], levels[1], stride=2)
        self.level2 = DLATree(levels[2], channels[1], channels[2], 2, level_root=False)
        self.level3 = DLATree(levels[3], channels[2], channels[3], 2, level_root=True)
        self.level4 = DLATree(levels[4], channels[3], channels[4], 2, level_root=True)
        self.level5 = DLATree(levels[5], channels[4], channels[5], 2, level_root=True)

    @staticmethod
    def _conv_level(in_channels: int, out_channels: int, convs: int,
                    stride: int) -> nn.Sequential:
        layers = []
        for i in range(convs):
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, stride if i == 0 else 1, 1, bias=False),
                _bn(out_channels),
                nn.ReLU(inplace=True)
            ]
            in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Args:
            x: (B, 3, H, W) images.

        Returns:
            One (B, channels[i], H / 2**i, W / 2**i) map per index in ``out_indices``.
        """
        x = self.base_layer(x)
        outs = []
        for i in range(6):
            x = getattr(self, f'level{i}')(x)
            outs.append(x)
        return tuple(outs[i] for i in self.out_indices)

    def train(self, mode: bool = True) -> 'DLA':
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self
