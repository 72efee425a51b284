# Copyright (c) mmcenternet contributors. All rights reserved.
"""The original's flip test on maps: merge the maps of an image and of its mirror image.

One function for every task; each head states, per branch, how its maps merge
(``FLIP_RULES``): the original averages heat maps (as probabilities) and sizes after flipping the
mirrored map back, averages joint displacements after negating their x part and swapping
left / right joints, and takes sub-pixel offsets from the un-mirrored pass only.
"""
from typing import Dict, Mapping, Optional, Sequence

from torch import Tensor

from .heatmap_ops import flip_back

__all__ = ['FLIP_RULES', 'merge_flip_maps', 'split_flip_batch']

#: How a branch merges. ``'mean'``: flipped back and averaged; ``'mean_swap'``: the same with
#: left / right channels (``flip_pairs``) swapped; ``'mean_offsets'``: the same on ``(x, y)``
#: channel pairs whose x is negated (the original's ``flip_lr_off``); ``'first'``: the
#: un-mirrored view's map.
FLIP_RULES = ('mean', 'mean_swap', 'mean_offsets', 'first')


def split_flip_batch(maps: Mapping[str, Tensor], batch: int):
    """``[views; mirrored views]`` batches -> ``(maps, mirrored maps)``, each of ``batch``."""
    return ({n: m[:batch] for n, m in maps.items()}, {n: m[batch:] for n, m in maps.items()})


def merge_flip_maps(maps: Mapping[str, Tensor],
                    maps_flip: Mapping[str, Tensor],
                    rules: Mapping[str, str],
                    flip_pairs: Optional[Sequence[Sequence[int]]] = None) -> Dict[str, Tensor]:
    """Merge each branch of an image's maps with its mirror image's maps.

    Args:
        maps: ``{branch: (B, C, H, W)}`` of the images (heat maps as probabilities).
        maps_flip: The same branches for the mirrored images.
        rules: ``{branch: rule}`` (see :data:`FLIP_RULES`); branches absent from ``maps`` are
            skipped, branches without a rule are an error.
        flip_pairs: Left / right channel pairs for ``'mean_swap'`` and ``'mean_offsets'``.

    Returns:
        ``{branch: (B, C, H, W)}`` merged maps.
    """
    out = {}
    for name, value in maps.items():
        if value is None:
            continue
        rule = rules.get(name)
        if rule == 'first':
            out[name] = value
        elif rule == 'mean':
            out[name] = (value + flip_back(maps_flip[name])) / 2
        elif rule == 'mean_swap':
            out[name] = (value + flip_back(maps_flip[name], flip_pairs)) / 2
        elif rule == 'mean_offsets':
            out[name] = (value + flip_back(maps_flip[name], flip_pairs, negate_x_of=2)) / 2
        else:
            raise ValueError(f'flip merge: branch {name!r} has no rule (got {rule!r}; one of '
                             f'{FLIP_RULES} expected)')
    return out
