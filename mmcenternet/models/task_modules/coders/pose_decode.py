# Copyright (c) mmcenternet contributors. All rights reserved.
"""Tensor-only decoding of CenterNet's multi-person pose maps (``multi_pose_decode``).

Persons are centre-heatmap peaks; each person's joints are first regressed from its integer
centre cell (``hps``) and then, joint by joint, snapped to the nearest peak of that joint's own
heatmap (``hm_hp`` + ``hp_offset``) unless the peak is weak, outside the person's box or too far.
Everything is in output-map pixels.
"""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from mmcenternet.models.utils.flip import merge_flip_maps
from mmcenternet.models.utils.heatmap_ops import (gather_feat, heatmap_nms, topk_per_channel,
                                                  topk_two_stage)

__all__ = [
    'multi_pose_decode', 'snap_joints', 'merge_flip_outputs', 'COCO_FLIP_PAIRS', 'POSE_FLIP_RULES'
]

#: Left/right joint pairs of the 17 COCO keypoints (the original's ``flip_idx``).
COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))

#: Coordinates given to joint-heatmap peaks at or below the score threshold (never selected).
_FAR_AWAY = -10000.0


def multi_pose_decode(heat: Tensor,
                      wh: Tensor,
                      hps: Tensor,
                      reg: Optional[Tensor] = None,
                      hm_hp: Optional[Tensor] = None,
                      hp_offset: Optional[Tensor] = None,
                      k: int = 100,
                      hm_hp_thresh: float = 0.1,
                      dist_ratio: float = 0.3,
                      kernel: int = 3) -> Dict[str, Tensor]:
    """Decode persons and their joints.

    Args:
        heat: (B, C, H, W) centre probabilities (after sigmoid).
        wh: (B, 2, H, W) box sizes ``(w, h)``.
        hps: (B, 2J, H, W) joint displacements from the integer centre, ``(x, y)`` per joint.
        reg: (B, 2, H, W) centre sub-pixel offsets (``None``: +0.5).
        hm_hp: (B, J, H, W) joint probabilities (``None``: pure regression, no refinement).
        hp_offset: (B, 2, H, W) joint sub-pixel offsets (``None``: +0.5).
        k: Persons kept, and peaks kept per joint heatmap.
        hm_hp_thresh: Joint peaks must score above this to be used.
        dist_ratio: A joint snaps to a peak at most ``dist_ratio * max(box w, box h)`` away.
        kernel: Max-pool window of the peak test.

    Returns:
        ``bboxes`` (B, K, 4) ``(x1, y1, x2, y2)``, ``scores`` (B, K) descending, ``labels``
        (B, K) int64, ``keypoints`` (B, K, J, 2).
    """
    heat = heatmap_nms(heat, kernel)
    scores, inds, labels, ys, xs = topk_two_stage(heat, k)
    num_imgs, num = scores.shape
    num_joints = hps.shape[1] // 2
    kps = gather_feat(hps, inds).reshape(num_imgs, num, num_joints, 2)
    kps = kps + torch.stack([xs, ys], dim=-1).unsqueeze(2)
    if reg is not None:
        off = gather_feat(reg, inds)
        cx, cy = xs + off[..., 0], ys + off[..., 1]
    else:
        cx, cy = xs + 0.5, ys + 0.5
    size = gather_feat(wh, inds)
    half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
    bboxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=-1)
    if hm_hp is not None:
        kps = _refine_joints(kps, bboxes, hm_hp, hp_offset, k, hm_hp_thresh, dist_ratio, kernel)
    return dict(bboxes=bboxes, scores=scores, labels=labels, keypoints=kps)


def _refine_joints(kps: Tensor, bboxes: Tensor, hm_hp: Tensor, hp_offset: Optional[Tensor],
                   k: int, thresh: float, dist_ratio: float, kernel: int) -> Tensor:
    """Snap regressed joints (B, K, J, 2) to joint-heatmap peaks under the original's rules."""
    num_imgs, num, num_joints = kps.shape[:3]
    hm_hp = heatmap_nms(hm_hp, kernel)
    peak_scores, peak_inds, peak_ys, peak_xs = topk_per_channel(hm_hp, k)  # (B, J, P)
    num_peaks = peak_scores.shape[-1]
    if hp_offset is not None:
        off = gather_feat(hp_offset, peak_inds.reshape(num_imgs, -1))
        off = off.reshape(num_imgs, num_joints, num_peaks, 2)
        peak_xs, peak_ys = peak_xs + off[..., 0], peak_ys + off[..., 1]
    else:
        peak_xs, peak_ys = peak_xs + 0.5, peak_ys + 0.5
    return snap_joints(kps, bboxes, peak_xs, peak_ys, peak_scores, thresh,
                       dist_ratio).contiguous()


def snap_joints(kps: Tensor, bboxes: Tensor, peak_xs: Tensor, peak_ys: Tensor,
                peak_scores: Tensor, thresh: float, dist_ratio: float) -> Tensor:
    """The original's joint refinement, given each joint heat map's peaks.

    Every regressed joint takes its nearest peak of the same joint type unless that peak lies
    outside the person's box, scores below ``thresh`` (peaks at or below it count as absent),
    or is farther than ``dist_ratio * max(box w, box h)``. Written with export-friendly
    operators only (the ONNX decoder uses it too).

    Args:
        kps: (B, K, J, 2) regressed joints.
        bboxes: (B, K, 4) person boxes ``(x1, y1, x2, y2)``, same units.
        peak_xs, peak_ys, peak_scores: (B, J, P) peaks per joint heat map (offsets added).
        thresh: Peak score threshold (0.1).
        dist_ratio: Snapping distance relative to the box's longer side (0.3).

    Returns:
        (B, K, J, 2) refined joints (a permuted view).
    """
    strong = peak_scores > thresh
    peak_scores = torch.where(strong, peak_scores, torch.full_like(peak_scores, -1.0))
    far = torch.full_like(peak_xs, _FAR_AWAY)
    peaks = torch.stack([torch.where(strong, peak_xs, far),
                         torch.where(strong, peak_ys, far)], dim=-1)  # (B, J, P, 2)

    reg_kps = kps.permute(0, 2, 1, 3)  # (B, J, K, 2)
    diff = reg_kps.unsqueeze(3) - peaks.unsqueeze(2)  # (B, J, K, P, 2)
    dist = (diff**2).sum(dim=4)**0.5
    min_dist, nearest = dist.min(dim=3)  # (B, J, K)
    near_score = peak_scores.gather(2, nearest)
    near = peaks.gather(2, nearest.unsqueeze(-1).expand(-1, -1, -1, 2))  # (B, J, K, 2)

    x1, y1, x2, y2 = (bboxes[..., i].unsqueeze(1) for i in range(4))  # (B, 1, K)
    near_x, near_y = near[..., 0], near[..., 1]
    reject = (near_x < x1) | (near_x > x2) | (near_y < y1) | (near_y > y2) | \
        (near_score < thresh) | (min_dist > torch.max(y2 - y1, x2 - x1) * dist_ratio)
    refined = torch.where(reject.unsqueeze(-1), reg_kps, near)
    return refined.permute(0, 2, 1, 3)


#: How each ``multi_pose`` branch merges in the original's flip test (see
#: :func:`~mmcenternet.models.utils.flip.merge_flip_maps`).
POSE_FLIP_RULES = dict(hm='mean', wh='mean', hps='mean_offsets', hm_hp='mean_swap', reg='first',
                       hp_offset='first')


def merge_flip_outputs(maps: Dict[str, Tensor], maps_flip: Dict[str, Tensor],
                       flip_pairs: Sequence[Sequence[int]] = COCO_FLIP_PAIRS) -> Dict[str, Tensor]:
    """Combine the maps of an image and of its mirror image as the original flip test does.

    Heatmaps are averaged after the sigmoid (joint heatmaps with left/right channels swapped),
    ``wh`` is averaged as is, ``hps`` is averaged after negating the x displacements and swapping
    left/right joints; ``reg`` and ``hp_offset`` come from the un-flipped pass only
    (:data:`POSE_FLIP_RULES`).

    Args:
        maps: Raw maps of the image (``hm`` and ``hm_hp`` as logits).
        maps_flip: Raw maps of the mirrored image.
        flip_pairs: Left/right joint pairs.

    Returns:
        Merged maps, ``hm`` / ``hm_hp`` as probabilities.
    """
    probs, probs_flip = dict(maps), dict(maps_flip)
    for name in ('hm', 'hm_hp'):
        if maps.get(name) is not None:
            probs[name], probs_flip[name] = maps[name].sigmoid(), maps_flip[name].sigmoid()
    return merge_flip_maps(probs, probs_flip, POSE_FLIP_RULES, flip_pairs)
