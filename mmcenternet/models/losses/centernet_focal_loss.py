# Copyright (c) mmcenternet contributors. All rights reserved.
"""CenterNet's heatmap focal loss (CornerNet variant), normalised as the original."""
import torch
import torch.nn as nn
from torch import Tensor

from mmcenternet.registry import register_shared


def clamped_sigmoid(logits: Tensor, eps: float = 1e-4) -> Tensor:
    """Sigmoid clamped to ``[eps, 1 - eps]``, used on heatmaps during training only."""
    return torch.clamp(logits.sigmoid(), min=eps, max=1 - eps)


def centernet_focal_loss(pred: Tensor, target: Tensor, alpha: float = 2.0,
                         gamma: float = 4.0) -> Tensor:
    """Penalty-reduced focal loss over a whole batch.

    Positives are the target pixels equal to exactly 1; negatives are weighted by
    ``(1 - target) ** gamma``. The sum is divided by the number of positives in the tensor (or not
    divided when there is none).

    Args:
        pred: (B, C, H, W) probabilities, already clamped away from 0 and 1.
        target: (B, C, H, W) Gaussian target heatmaps.
        alpha: Focusing exponent on the prediction.
        gamma: Exponent of the negative weights.

    Returns:
        Scalar loss.
    """
    pos = target.eq(1).to(pred.dtype)
    neg = target.lt(1).to(pred.dtype)
    neg_weights = torch.pow(1 - target, gamma)
    pos_loss = (torch.log(pred) * torch.pow(1 - pred, alpha) * pos).sum()
    neg_loss = (torch.log(1 - pred) * torch.pow(pred, alpha) * neg_weights * neg).sum()
    num_pos = pos.sum()
    if num_pos == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_pos


@register_shared
class CenterNetFocalLoss(nn.Module):
    """Focal loss on heatmap logits with CenterNet's clamped sigmoid.

    Args:
        loss_weight: Multiplier of the loss.
        alpha: Focusing exponent.
        gamma: Exponent of the negative weights.
        eps: Clamp of the sigmoid.
    """

    def __init__(self, loss_weight: float = 1.0, alpha: float = 2.0, gamma: float = 4.0,
                 eps: float = 1e-4) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.alpha = alpha
        self.gamma = gamma
        self.eps = eps

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Args:
            logits: (B, C, H, W) raw heatmap outputs.
            target: (B, C, H, W) targets.
        """
        pred = clamped_sigmoid(logits.float(), self.eps)
        return self.loss_weight * centernet_focal_loss(pred, target.float(), self.alpha,
                                                       self.gamma)
