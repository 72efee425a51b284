# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's other training losses, used by its ablation options (none by the model zoo).

* :class:`CenterNetMSELoss`: ``--mse_loss``, ``torch.nn.MSELoss`` on the heat-map *logits* (the
  original applies no sigmoid on this path) against ``draw_msra_gaussian`` targets;
* :class:`CenterNetRegSmoothL1Loss`: ``--reg_loss sl1``, the original's ``RegLoss``;
* :class:`CenterNetDenseL1Loss`: ``--dense_wh``, an L1 sum over the size maps weighted by the
  heat map, divided by the weight sum.
"""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmcenternet.models.utils.heatmap_ops import gather_feat
from mmcenternet.registry import register_shared

__all__ = ['CenterNetMSELoss', 'CenterNetRegSmoothL1Loss', 'CenterNetDenseL1Loss']


@register_shared
class CenterNetMSELoss(nn.Module):
    """Mean squared error of the raw heat-map output and the target (``--mse_loss``).

    Args:
        loss_weight: Multiplier of the loss (the original's ``hm_weight``).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * F.mse_loss(logits.float(), target.float())


@register_shared
class CenterNetRegSmoothL1Loss(nn.Module):
    """The original's ``RegLoss`` (``--reg_loss sl1``): smooth L1 summed over the masked values,
    divided by the number of objects (not of coordinates, unlike the L1 loss).

    Args:
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, mask: Tensor, ind: Tensor, target: Tensor) -> Tensor:
        pred = gather_feat(output.float(), ind)
        num = mask.float().sum()
        m = mask.float().unsqueeze(2).expand_as(target)
        loss = F.smooth_l1_loss(pred * m, target.float() * m, reduction='sum')
        return self.loss_weight * loss / (num + 1e-4)


@register_shared
class CenterNetDenseL1Loss(nn.Module):
    """``--dense_wh``: ``sum |out * w - target * w| / (sum(w) + 1e-4)`` over whole maps, ``w``
    the heat-map weights (``dense_wh_mask``).

    Args:
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, weight: Tensor, target: Tensor) -> Tensor:
        w = weight.float()
        loss = F.l1_loss(output.float() * w, target.float() * w, reduction='sum')
        return self.loss_weight * loss / (w.sum() + 1e-4)
