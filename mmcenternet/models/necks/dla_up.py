# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's DLA up-sampling neck: DLA-up (iterative aggregation to stride 4) + a final IDA-up.

Names follow CenterNet's ``pose_dla_dcn`` (``dla_up.ida_{i}.{proj,up,node}_{j}``, ``ida_up``) so
that converted checkpoints need only prefix changes; each deformable unit is a modulated
deformable convolution with bias (``DCNv2Fast`` by default, see :mod:`mmcenternet.ops`) followed
by BN and ReLU.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmcenternet.ops import FastModulatedDeformConv2dPack  # noqa: F401  (registers DCNv2Fast)
from mmcenternet.registry import register_shared


def fill_bilinear_(weight: Tensor) -> None:
    """Fill a (C, 1, k, k) transposed-convolution weight with a bilinear up-sampling kernel.

    Only the ``[:, 0]`` slice is written: for the depthwise layers of DLA-up that is the whole
    kernel; for the dense layers of ResNet-DCN it reproduces CenterNet's initialisation, which
    leaves the other slices at their default values.
    """
    k = weight.size(2)
    f = math.ceil(k / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for i in range(k):
        for j in range(weight.size(3)):
            weight.data[0, 0, i, j] = (1 - abs(i / f - c)) * (1 - abs(j / f - c))
    for ch in range(1, weight.size(0)):
        weight.data[ch, 0] = weight.data[0, 0]


class DeformConvUnit(nn.Module):
    """Modulated deformable 3x3 convolution (with bias) -> BN -> ReLU.

    The BN/ReLU pair is called ``actf`` and the convolution ``conv`` as in CenterNet.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        dcn_cfg: mmcv conv-layer config of the deformable convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, dcn_cfg: dict) -> None:
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(out_channels, momentum=0.1), nn.ReLU(inplace=True))
        self.conv = build_conv_layer(
            dcn_cfg, in_channels, out_channels, 3, stride=1, padding=1, dilation=1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.actf(self.conv(x))


class IDAUp(nn.Module):
    """Iterative deep aggregation towards the resolution of the first input.

    For ``j = 1 .. len(in_channels) - 1`` it owns ``proj_j`` (deformable unit to ``out_channels``),
    ``up_j`` (depthwise bilinear transposed convolution by ``up_factors[j]``) and ``node_j``
    (deformable unit on the sum with the previous, already aggregated, level).

    Args:
        out_channels: Channels of every aggregated map.
        in_channels: Channels of the incoming maps, finest first.
        up_factors: Up-sampling factor of each incoming map relative to the first.
        dcn_cfg: Deformable convolution config.
    """

    def __init__(self, out_channels: int, in_channels: Sequence[int], up_factors: Sequence[int],
                 dcn_cfg: dict) -> None:
        super().__init__()
        for j in range(1, len(in_channels)):
            f = int(up_factors[j])
            setattr(self, f'proj_{j}', DeformConvUnit(in_channels[j], out_channels, dcn_cfg))
            up = nn.ConvTranspose2d(
                out_channels, out_channels, f * 2, stride=f, padding=f // 2, output_padding=0,
                groups=out_channels, bias=False)
            fill_bilinear_(up.weight)
            setattr(self, f'up_{j}', up)
            setattr(self, f'node_{j}', DeformConvUnit(out_channels, out_channels, dcn_cfg))

    def forward(self, layers: List[Tensor], start: int, end: int) -> None:
        """Aggregate ``layers[start:end]`` in place; ``layers[end - 1]`` holds the result.

        Args:
            layers: Feature maps; entries ``start + 1 .. end - 1`` are replaced.
            start: Index of the finest map (kept as is).
            end: One past the last map to aggregate.
        """
        for i in range(start + 1, end):
            j = i - start
            up = getattr(self, f'up_{j}')(getattr(self, f'proj_{j}')(layers[i]))
            layers[i] = getattr(self, f'node_{j}')(up + layers[i - 1])


class DLAUp(nn.Module):
    """Aggregates the used backbone levels pairwise from coarse to fine.

    ``ida_k`` (k = 0, 1, ...) brings the coarsest ``k + 2`` maps down one level at a time. The
    output list is finest first: ``[stride 4, stride 8, stride 16, original coarsest map]`` for
    DLA-34.

    Args:
        channels: Channels of the used levels, finest first.
        scales: Strides of the used levels relative to the finest.
        dcn_cfg: Deformable convolution config.
    """

    def __init__(self, channels: Sequence[int], scales: Sequence[int], dcn_cfg: dict) -> None:
        super().__init__()
        channels = list(channels)
        in_channels = list(channels)
        scales = [int(s) for s in scales]
        for k in range(len(channels) - 1):
            j = len(channels) - k - 2  # the level this stage aggregates into
            ratios = [s // scales[j] for s in scales[j:]]
            setattr(self, f'ida_{k}', IDAUp(channels[j], in_channels[j:], ratios, dcn_cfg))
            # After this stage every coarser map has been brought to level j.
            for t in range(j + 1, len(channels)):
                scales[t] = scales[j]
                in_channels[t] = channels[j]

    def forward(self, layers: List[Tensor]) -> List[Tensor]:
        """Args:
            layers: The used backbone levels, finest first (the list is not modified).
        """
        layers = list(layers)
        outs = [layers[-1]]
        for k in range(len(layers) - 1):
            getattr(self, f'ida_{k}')(layers, len(layers) - k - 2, len(layers))
            outs.insert(0, layers[-1])
        return outs


@register_shared
class DLAUpNeck(BaseModule):
    """CenterNet's DLA-34 neck (``DLASeg`` without the base and heads).

    Args:
        in_channels: Channels of all backbone levels (``DLA.channels``).
        start_level: First level used (2 = stride 4, i.e. ``down_ratio`` 4).
        end_level: Last level (exclusive) fed to the final IDA-up (5 in CenterNet).
        out_channels: Channels of the output map (the head input).
        dcn_cfg: mmcv conv config of the deformable convolutions (default
            ``dict(type='DCNv2Fast', deform_groups=1)``; ``type='DCNv2'`` is mmcv's layer).
        init_cfg: mmengine initialisation config.

    Returns (forward):
        A one-element tuple with the (B, out_channels, H / 2**start_level, W / 2**start_level) map.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32, 64, 128, 256, 512),
                 start_level: int = 2,
                 end_level: int = 5,
                 out_channels: Optional[int] = None,
                 dcn_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        dcn_cfg = dict(type='DCNv2Fast', deform_groups=1) if dcn_cfg is None else dict(dcn_cfg)
        used = list(in_channels[start_level:])
        self.start_level = start_level
        self.end_level = end_level
        self.out_channels = used[0] if out_channels is None else out_channels
        scales = [2**i for i in range(len(used))]
        self.dla_up = DLAUp(used, scales, dcn_cfg)
        n = end_level - start_level
        self.ida_up = IDAUp(self.out_channels, used[:n], [2**i for i in range(n)], dcn_cfg)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor]:
        """Args:
            feats: All backbone levels (B, in_channels[i], H / 2**i, W / 2**i).
        """
        x = self.dla_up(feats[self.start_level:])
        y = [x[i].clone() for i in range(self.end_level - self.start_level)]
        self.ida_up(y, 0, len(y))
        return (y[-1], )
