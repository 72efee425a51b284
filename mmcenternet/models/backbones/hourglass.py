# Copyright (c) mmcenternet contributors. All rights reserved.
"""Hourglass-104 (CornerNet / ExtremeNet / CenterNet ``hourglass`` arch).

mmdet's ``HourglassNet`` is already the original network layer for layer (a converted original
checkpoint reproduces both stacks' raw outputs), so this is a thin subclass. The one difference
is the input-size rule: the original adds each hourglass level's up-sampled branch to its skip
branch, which only fits when both input sides are multiples of ``4 * 2 ** downsample_times``
(128 for Hourglass-104). mmdet instead resizes the up-sampled map to the skip map's size, which
hides a wrong input size behind silently different features; here it is an error that states
the rule.
"""
from typing import List, Sequence

from mmdet.models.backbones import HourglassNet
from torch import Tensor

from mmcenternet.registry import register_shared

__all__ = ['CenterNetHourglassNet']


@register_shared
class CenterNetHourglassNet(HourglassNet):
    """mmdet's ``HourglassNet`` that refuses inputs the original network cannot take.

    Args:
        downsample_times: Stride-2 steps inside each hourglass (5 for Hourglass-104).
        num_stacks: Hourglass stacks (2); one output map per stack.
        stage_channels: Channels per hourglass level.
        stage_blocks: Residual blocks per hourglass level.
        feat_channel: Channels of each stack's output map.
        norm_cfg: Normalisation layers.
        init_cfg: Must be None (mmdet's rule; weights come from a converted checkpoint).
    """

    def __init__(self,
                 downsample_times: int = 5,
                 num_stacks: int = 2,
                 stage_channels: Sequence[int] = (256, 256, 384, 384, 384, 512),
                 stage_blocks: Sequence[int] = (2, 2, 2, 2, 2, 4),
                 feat_channel: int = 256,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 init_cfg=None) -> None:
        super().__init__(downsample_times=downsample_times, num_stacks=num_stacks,
                         stage_channels=stage_channels, stage_blocks=stage_blocks,
                         feat_channel=feat_channel, norm_cfg=norm_cfg, init_cfg=init_cfg)
        # stem (stride 4) followed by ``downsample_times`` stride-2 residuals
        self.size_divisor = 4 * 2**downsample_times

    def forward(self, x: Tensor) -> List[Tensor]:
        """Args:
            x: (B, 3, H, W) images, H and W multiples of :attr:`size_divisor`.

        Returns:
            ``num_stacks`` maps of shape (B, feat_channel, H / 4, W / 4), first stack first.
        """
        height, width = x.shape[-2:]
        div = self.size_divisor
        if height % div or width % div:
            raise ValueError(
                f'{type(self).__name__}: input of {height}x{width} pixels (HxW); both sides must '
                f'be multiples of {div} (4 * 2**downsample_times), the rule of the original '
                f'hourglass network. Pad test images with CenterNetPad(size_mask={div - 1}) and '
                f'batches with pad_size_divisor={div}, and train on crops whose sides are '
                f'multiples of {div}.')
        return super().forward(x)
