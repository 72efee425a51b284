# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's masked L1 regression loss on values gathered at object centres."""
import torch.nn as nn
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import gather_feat
from mmcenternet.registry import register_shared


def reg_l1_loss(output: Tensor, mask: Tensor, ind: Tensor, target: Tensor) -> Tensor:
    """Masked L1 loss, normalised by the number of masked coordinates.

    Args:
        output: (B, D, H, W) predicted map.
        mask: (B, M) object mask, or (B, M, D) per-coordinate weights.
        ind: (B, M) flat indices ``y * W + x`` of the objects.
        target: (B, M, D) targets.

    Returns:
        ``sum |pred * m - target * m| / (sum(m) + 1e-4)`` with ``m`` the mask expanded to D.
    """
    pred = gather_feat(output, ind)
    m = mask.to(pred.dtype)
    if m.dim() == 2:
        m = m.unsqueeze(2).expand_as(pred)
    return (pred * m - target * m).abs().sum() / (m.sum() + 1e-4)


@register_shared
class CenterNetRegL1Loss(nn.Module):
    """``RegL1Loss`` / ``RegWeightedL1Loss`` of CenterNet (the mask decides which).

    Args:
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, mask: Tensor, ind: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * reg_l1_loss(output.float(), mask, ind, target.float())
