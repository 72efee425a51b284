# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's error analysis (``--eval_oracle_*``): predicted maps replaced by ground truth.

:func:`oracle_map` is the original's ``gen_oracle_map``: the per-object values written at each
object's centre cell and spread to every other cell by a breadth-first flood fill from the
centres (4-neighbours, objects in slot order), so that a peak anywhere reads the value of the
object it grew from.
"""
from collections import deque

import numpy as np
import torch
from torch import Tensor

__all__ = ['oracle_map', 'ORACLE_MAPS']

#: The maps an oracle can replace, per task (the original's flags: ``eval_oracle_hm``,
#: ``eval_oracle_wh``, ``eval_oracle_offset``).
ORACLE_MAPS = ('hm', 'wh', 'offset')


def oracle_map(values: Tensor, ind: Tensor, height: int, width: int) -> Tensor:
    """Dense (B, D, H, W) map of per-object values, as the original's ``gen_oracle_map``.

    Args:
        values: (B, M, D) values of the object slots.
        ind: (B, M) flat centre indices ``y * W + x``; slots with index 0 are skipped, as in the
            original (an object centred on cell (0, 0) is lost too).
        height, width: Size of the map.

    Returns:
        (B, D, H, W) float32 map on ``values``' device.
    """
    feat = values.detach().float().cpu().numpy()
    inds = ind.detach().cpu().numpy()
    b, m, d = feat.shape
    out = np.zeros((b, d, height, width), np.float32)
    for i in range(b):
        seen = np.zeros((height, width), bool)
        queue = deque()
        for j in range(m):
            if inds[i, j] > 0:
                x, y = int(inds[i, j] % width), int(inds[i, j] // width)
                out[i, :, y, x] = feat[i, j]
                seen[y, x] = True
                queue.append((x, y, feat[i, j]))
        while queue:
            x, y, f = queue.popleft()
            for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                xx, yy = x + dx, y + dy
                if 0 <= xx < width and 0 <= yy < height and not seen[yy, xx]:
                    out[i, :, yy, xx] = f
                    seen[yy, xx] = True
                    queue.append((xx, yy, f))
    return torch.from_numpy(out).to(values.device)
