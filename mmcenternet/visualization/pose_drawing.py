# Copyright (c) mmcenternet contributors. All rights reserved.
"""Drawing multi-person pose predictions (boxes, scores, skeletons, joints) with OpenCV.

mmpose's visualizer imports torchvision, which cannot be installed beside a CPU build of torch;
this is what the image demo and ``tools/test.py --show-dir`` use for pose configs.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['draw_pose']


def _colour(colours, k: int, default: Tuple[int, int, int]) -> Tuple[int, int, int]:
    """A BGR tuple from mmpose's RGB palette entry ``k`` (or ``default``)."""
    if colours is None or k >= len(colours):
        return default
    r, g, b = (int(c) for c in np.asarray(colours[k]).ravel()[:3])
    return b, g, r


def draw_pose(img: np.ndarray, pred, score_thr: float = 0.3,
              skeleton: Optional[Sequence[Tuple[int, int]]] = None, meta: Optional[dict] = None,
              scale: int = 1, caption: Optional[str] = None) -> np.ndarray:
    """Draw persons with ``bbox_score >= score_thr`` (box, score, skeleton, joints) on a copy.

    Boxes are drawn between their corner extremes and cut at the picture's edge (for drawing
    only: the original neither orders nor clips predicted boxes, and the prediction is left as
    it is).

    Args:
        img: (H, W, 3) BGR image.
        pred: ``pred_instances`` of :func:`inference_pose`.
        score_thr: Smallest person score drawn.
        skeleton: Joint index pairs to connect (default: ``meta['skeleton_links']``).
        meta: mmpose dataset meta (skeleton, keypoint and link colours).
        scale: Whole factor by which the picture is enlarged (the labels stay legible).
        caption: Text in the bottom-left corner (e.g. ``'ground truth'``). Ground truth passes
            ``pred`` with ``joint_visible`` (N, K): joints not labelled are left out.

    Returns:
        The drawn (H * scale, W * scale, 3) BGR image.
    """
    meta = meta or {}
    skeleton = skeleton if skeleton is not None else meta.get('skeleton_links', ())
    h, w = img.shape[:2]
    out = cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR) \
        if scale > 1 else img.copy()
    scores = np.asarray(pred.bbox_scores, dtype=np.float64).reshape(-1)
    boxes = np.asarray(pred.bboxes, dtype=np.float64).reshape(-1, 4) * scale
    joints = np.asarray(pred.keypoints, dtype=np.float64)
    joints = joints.reshape(len(scores), -1, 2) * scale
    thick = max(1, scale // 2)
    visible = getattr(pred, 'joint_visible', None)
    is_truth = visible is not None
    visible = np.ones(joints.shape[:2], bool) if visible is None else \
        np.asarray(visible, bool).reshape(joints.shape[:2])
    for i in np.flatnonzero(scores >= score_thr)[::-1]:  # best person drawn last (on top)
        x1, x2 = sorted(boxes[i, 0::2].clip(0, w * scale - 1))
        y1, y2 = sorted(boxes[i, 1::2].clip(0, h * scale - 1))
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), (0, 255, 0), thick)
        label = 'person' if is_truth else f'person {scores[i]:.2f}'
        cv2.putText(out, label, (int(x1) + 2, max(int(y1) - 4, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35 * max(1, scale / 2), (0, 255, 0), thick)
        pts = np.round(joints[i]).astype(int)
        for k, (a, b) in enumerate(skeleton):
            if a < len(pts) and b < len(pts) and visible[i, a] and visible[i, b]:
                cv2.line(out, tuple(pts[a]), tuple(pts[b]),
                         _colour(meta.get('skeleton_link_colors'), k, (255, 128, 0)), thick)
        for k, p in enumerate(pts):
            if visible[i, k]:
                cv2.circle(out, tuple(p), 2 + thick,
                           _colour(meta.get('keypoint_colors'), k, (0, 0, 255)), -1)
    if caption:  # bottom-left: the person labels sit above the boxes' tops
        fs = 0.35 * max(1, scale / 2)
        (cw, ch), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
        top = out.shape[0] - ch - base - 5
        cv2.rectangle(out, (0, top), (cw + 5, out.shape[0] - 1), (255, 255, 255), -1)
        cv2.putText(out, caption, (3, top + ch + 2), cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return out
