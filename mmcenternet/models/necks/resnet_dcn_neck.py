# Copyright (c) mmcenternet contributors. All rights reserved.
"""ResNet-DCN neck with a configurable deformable convolution."""
from typing import Optional, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.necks import CTResNetNeck

from mmcenternet.ops import FastModulatedDeformConv2dPack  # noqa: F401  (registers DCNv2Fast)
from mmcenternet.registry import DET_MODELS


@DET_MODELS.register_module()
class CenterNetResNetNeck(CTResNetNeck):
    """mmdet's ``CTResNetNeck`` whose deformable convolutions are built from ``dcn_cfg``.

    mmdet fixes them to mmcv's ``DCNv2``. Structure, parameter names, initialisation and
    checkpoints are those of ``CTResNetNeck``: ``deconv_layers`` alternates a 3x3 (deformable)
    ConvModule without bias + BN + ReLU and a stride-2 transposed-convolution ConvModule.

    Args:
        in_channels: Channels of the backbone's last map.
        num_deconv_filters: Channels of each up-sampling stage.
        num_deconv_kernels: Transposed-convolution kernel of each stage.
        use_dcn: Deformable (``dcn_cfg``) or plain 3x3 convolutions.
        dcn_cfg: mmcv conv-layer config of the deformable convolutions (default
            ``dict(type='DCNv2Fast')``, see :mod:`mmcenternet.ops`).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_deconv_filters: Tuple[int, ...],
                 num_deconv_kernels: Tuple[int, ...],
                 use_dcn: bool = True,
                 dcn_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        # read by _make_deconv_layer, which the parent's __init__ calls
        self._dcn_cfg = dict(type='DCNv2Fast') if dcn_cfg is None else dict(dcn_cfg)
        super().__init__(in_channels, num_deconv_filters, num_deconv_kernels, use_dcn=use_dcn,
                         init_cfg=init_cfg)

    def _make_deconv_layer(self, num_deconv_filters: Tuple[int, ...],
                           num_deconv_kernels: Tuple[int, ...]) -> nn.Sequential:
        conv_cfg = self._dcn_cfg if self.use_dcn else None
        stages = []
        channels = self.in_channels
        for width, kernel in zip(num_deconv_filters, num_deconv_kernels):
            stages += [
                ConvModule(channels, width, 3, padding=1, conv_cfg=conv_cfg,
                           norm_cfg=dict(type='BN')),
                ConvModule(width, width, kernel, stride=2, padding=1,
                           conv_cfg=dict(type='deconv'), norm_cfg=dict(type='BN')),
            ]
            channels = width
        self.in_channels = channels
        return nn.Sequential(*stages)
