# Copyright (c) mmcenternet contributors. All rights reserved.
"""What every export decoder shares: the last stack's maps, fixed-size top-K and gathers.

Export decoders are CenterNet decoding written for export: fixed K, no shape-dependent Python
branches. Each head builds its own (``head.export_decoder()``); the exporter appends it to the
network with ``--with-decoder``.

The decoders take the network's flat raw maps and return fixed-size tensors, exactly the
detections of the PyTorch decoders (:meth:`CenterNetDetHead.decode_maps`,
:func:`~mmcenternet.models.task_modules.coders.pose_decode.multi_pose_decode`) on the last
stack: plain sigmoid, 3x3 max-pool peak test, top-K first per class then overall, gathers of the
regression maps.

The only difference is for maps with fewer than K cells (inputs under 40x40 pixels at stride 4),
where the PyTorch decoders return fewer than K rows: here the missing rows are filled with
padding rows whose score is -1. Every score of a real detection is >= 0.
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor


__all__ = ['LastStackDecoder', 'PAD_SCORE', 'topk_two_stage_fixed', 'flat_padded', 'gather_flat']

#: Score of the padding rows (maps with fewer than K cells).
PAD_SCORE = -1.0


def flat_padded(maps: Tensor, k: int, value: float) -> Tensor:
    """(B, D, H, W) -> (B, D, H*W + k): the flattened map followed by ``k`` cells of ``value``.

    Top-K over the result always has K candidates, whatever the input size, and gathering at
    any of its indices stays in range.
    """
    flat = maps.flatten(2)
    pad = torch.full_like(flat[:, :, :1], value).expand(-1, -1, k)
    return torch.cat([flat, pad], dim=2)


def gather_flat(flat: Tensor, inds: Tensor) -> Tensor:
    """(B, D, N) values at (B, M) indices -> (B, M, D)."""
    idx = inds.unsqueeze(1).expand(-1, flat.shape[1], -1)
    return flat.gather(2, idx).transpose(1, 2)


def topk_two_stage_fixed(heat: Tensor, k: int, pad_score: float = PAD_SCORE
                         ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """:func:`~mmcenternet.models.utils.heatmap_ops.topk_two_stage` with exactly K rows.

    Returns ``(scores, inds, labels, ys, xs)``, each (B, K); ``inds`` index the flattened map
    (values >= H*W belong to padding rows, whose score is ``pad_score``).
    """
    width = heat.shape[3]
    scores = flat_padded(heat, k, pad_score)
    cls_scores, cls_inds = torch.topk(scores, k, dim=2)  # (B, C, K)
    top_scores, top_idx = torch.topk(cls_scores.flatten(1), k, dim=1)  # (B, K)
    labels = torch.div(top_idx, k, rounding_mode='floor')
    inds = cls_inds.flatten(1).gather(1, top_idx)
    ys = torch.div(inds, width, rounding_mode='floor').to(heat.dtype)
    xs = (inds - torch.div(inds, width, rounding_mode='floor') * width).to(heat.dtype)
    return top_scores, inds, labels, ys, xs


class LastStackDecoder(nn.Module):
    """Common part: picks the last stack's maps out of the flat raw output."""

    #: Names of the outputs of :meth:`forward`, in order.
    output_names = ('bboxes', 'scores', 'labels')

    def __init__(self, heads: Sequence[str], num_stacks: int, topk: int, kernel: int,
                 stride: float) -> None:
        super().__init__()
        self.heads = list(heads)
        self.num_stacks = int(num_stacks)
        self.topk = int(topk)
        self.kernel = int(kernel)
        self.stride = float(stride)

    @property
    def rows(self) -> int:
        """Detections returned per image (the size of every output's axis 1)."""
        return self.topk

    def metadata(self) -> Dict[str, str]:
        """Settings recorded in the exported file's metadata."""
        return {'topk': str(self.topk)}

    def last_stack(self, outs: Sequence[Tensor]) -> Dict[str, Tensor]:
        n = len(self.heads)
        if len(outs) != n * self.num_stacks:
            raise ValueError(f'expected {n * self.num_stacks} raw maps, got {len(outs)}')
        return dict(zip(self.heads, outs[-n:]))
