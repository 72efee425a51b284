# Copyright (c) mmcenternet contributors. All rights reserved.
"""OpenCV drawing of detections: one box per object, legible labels that never overlap.

Used by :class:`~mmcenternet.visualization.CenterNetDetVisualizer` (``tools/test.py --show-dir``,
``tools/misc/image_demo.py``, mmdet's ``DetInferencer``) and by the video demo, where the
matplotlib-based mmdet drawing would cost more than the network on a CPU.

CenterNet scores every class at every peak, so one object often carries two boxes of different
classes on the same centre. The drawing groups them (:func:`group_detections`) and shows the
best class only; the predictions themselves are never changed.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['draw_detections', 'draw_fps', 'group_detections', 'class_colour', 'label_scale',
           'describe_groups', 'layout_labels']

FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colour(label: int, rgb: bool = False) -> Tuple[int, int, int]:
    """A distinct, stable colour per class (BGR, or RGB with ``rgb=True``)."""
    hue = (label * 47) % 180
    hsv = np.uint8([[[hue, 200, 255]]])
    b, g, r = (int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])
    return (r, g, b) if rgb else (b, g, r)


def label_scale(h: int, w: int) -> float:
    """Font scale that stays readable on small and large pictures alike."""
    return float(np.clip(max(h, w) / 900.0, 0.45, 1.2))


def _ordered(box) -> Tuple[float, float, float, float]:
    x1, x2 = sorted((float(box[0]), float(box[2])))
    y1, y2 = sorted((float(box[1]), float(box[3])))
    return x1, y1, x2, y2


def _iou(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / max(union, 1e-6)


def group_detections(bboxes, scores, labels, iou_thr: float = 0.7) -> List[List[int]]:
    """Group detections of different classes that lie on one object.

    Detections are taken by falling score; one joins the first earlier group whose leading box
    has the same centre (within a pixel) or an IoU of at least ``iou_thr`` with it and whose
    classes it does not share. Boxes of the same class are never merged (two objects).

    Args:
        bboxes: (N, 4) boxes ``x1, y1, x2, y2`` (either corner order).
        scores: (N, ) scores.
        labels: (N, ) classes.
        iou_thr: Overlap above which two boxes are taken as one object.

    Returns:
        Index lists, best first within each group and groups by falling best score.
    """
    bboxes, scores, labels = (np.asarray(v) for v in (bboxes, scores, labels))
    order = np.argsort(-scores, kind='stable')
    boxes = [_ordered(b) for b in bboxes]
    groups: List[List[int]] = []
    for i in order:
        b = boxes[i]
        centre = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        for group in groups:
            lead = boxes[group[0]]
            same_centre = (abs((lead[0] + lead[2]) / 2 - centre[0]) <= 1
                           and abs((lead[1] + lead[3]) / 2 - centre[1]) <= 1)
            if (same_centre or _iou(lead, b) >= iou_thr) and \
                    all(int(labels[j]) != int(labels[i]) for j in group):
                group.append(int(i))
                break
        else:
            groups.append([int(i)])
    return groups


def _class_name(label: int, classes: Optional[Sequence[str]]) -> str:
    return classes[label] if classes is not None and label < len(classes) else f'class {label}'


def describe_groups(groups: List[List[int]], scores, labels,
                    classes: Optional[Sequence[str]] = None) -> List[str]:
    """One text per group: ``'ellipse 0.81'`` or ``'ellipse 0.81 (also rectangle 0.42)'``."""
    texts = []
    for group in groups:
        name = [f'{_class_name(int(labels[j]), classes)} {float(scores[j]):.2f}' for j in group]
        texts.append(name[0] + (f' (also {", ".join(name[1:])})' if len(name) > 1 else ''))
    return texts


def _free(rect, taken, w: int, h: int) -> bool:
    x1, y1, x2, y2 = rect
    if x1 < 0 or y1 < 0 or x2 > w or y2 > h:
        return False
    return all(x2 <= t[0] or t[2] <= x1 or y2 <= t[1] or t[3] <= y1 for t in taken)


def _place_label(box, size, taken, w: int, h: int) -> Tuple[int, int, int, int]:
    """A label rectangle next to ``box`` that overlaps no rectangle in ``taken``.

    Tried in turn: above the box, inside its top, below it, inside its bottom; then further
    down and up, one label height at a time, and sideways, one label width at a time; the first
    place inside the picture and free wins (the label nearest its box, as far as there is room).
    """
    tw, th = size
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    rows = max(h // max(th, 1), 1) + 1
    tops = [y1 - th, y1, y2, y2 - th]
    for k in range(1, rows):
        tops += [y1 + k * th, y1 - (k + 1) * th]
    left = int(np.clip(x1, 0, max(w - tw, 0)))
    lefts = [left, int(np.clip(x2 - tw, 0, max(w - tw, 0)))]
    for k in range(1, 4):
        lefts += [int(np.clip(x1 + k * tw, 0, max(w - tw, 0))),
                  int(np.clip(x1 - k * tw, 0, max(w - tw, 0)))]
    for top in tops:
        for lx in dict.fromkeys(lefts):  # in order, without repeats
            rect = (lx, top, lx + tw, top + th)
            if _free(rect, taken, w, h):
                return rect
    top = int(np.clip(y1 - th, 0, max(h - th, 0)))
    return (left, top, left + tw, top + th)


def layout_labels(boxes: Sequence, texts: Sequence[str], w: int, h: int, font_scale: float,
                  taken: Optional[List[Tuple[int, int, int, int]]] = None
                  ) -> List[Tuple[int, int, int, int]]:
    """Label rectangles ``(x1, y1, x2, y2)``, one per box, overlapping neither each other nor
    ``taken`` where the picture has room (:func:`_place_label`); in drawing order."""
    taken = list(taken or [])
    rects = []
    for box, text in zip(boxes, texts):
        (tw, th), base = cv2.getTextSize(text, FONT, font_scale, 1)
        rect = _place_label(box, (tw + 4, th + base + 4), taken, w, h)
        taken.append(rect)
        rects.append(rect)
    return rects


def draw_detections(img: np.ndarray, bboxes, scores=None, labels=None, score_thr: float = 0.3,
                    classes: Optional[Sequence[str]] = None, rgb: bool = False,
                    caption: Optional[str] = None) -> np.ndarray:
    """Draw detections (or ground truth, ``scores=None``) on a copy of the image.

    Only detections with ``score >= score_thr`` are drawn, one box per object
    (:func:`group_detections`: the best class; the others are left to the text output). Boxes
    are drawn between their corner extremes and cut at the image edge; labels are placed where
    they overlap neither each other nor the caption.

    Args:
        img: (H, W, 3) uint8 image, BGR (or RGB with ``rgb=True``).
        bboxes: (N, 4) ``x1, y1, x2, y2`` in image pixels.
        scores: (N, ) scores, or None for ground truth (every box drawn, names only).
        labels: (N, ) 0-based classes.
        score_thr: Smallest score drawn.
        classes: Class names (``class i`` otherwise).
        rgb: The image and the colours are in RGB order.
        caption: Text in the top-left corner (e.g. ``'ground truth'``).

    Returns:
        The drawn image.
    """
    out = np.ascontiguousarray(img.copy())
    h, w = out.shape[:2]
    bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
    labels = np.zeros(len(bboxes), np.int64) if labels is None else np.asarray(labels)
    if scores is None:
        groups = [[i] for i in range(len(bboxes))]
    else:
        scores = np.asarray(scores, dtype=np.float64)
        keep = np.flatnonzero(scores >= score_thr)
        groups = [[int(keep[j]) for j in g]
                  for g in group_detections(bboxes[keep], scores[keep], labels[keep])]
    fs = label_scale(h, w)
    thick = max(2, int(round(fs * 3)))
    taken: List[Tuple[int, int, int, int]] = []
    if caption:
        (cw, ch), base = cv2.getTextSize(caption, FONT, fs, 1)
        taken.append((0, 0, cw + 6, ch + base + 6))
    drawn = []
    for group in groups:
        i = group[0]
        x1, y1, x2, y2 = _ordered(bboxes[i])
        box = (np.clip(x1, 0, w - 1), np.clip(y1, 0, h - 1), np.clip(x2, 0, w - 1),
               np.clip(y2, 0, h - 1))
        colour = class_colour(int(labels[i]), rgb)
        corners = (int(box[0]), int(box[1])), (int(box[2]), int(box[3]))
        # a dark rim keeps the box visible on objects and backgrounds of its own colour
        cv2.rectangle(out, *corners, (0, 0, 0), thick + 2)
        cv2.rectangle(out, *corners, colour, thick)
        drawn.append((i, box, colour))
    texts = []
    for i, _, _ in drawn:
        text = _class_name(int(labels[i]), classes)
        texts.append(text if scores is None else f'{text} {float(scores[i]):.2f}')
    rects = layout_labels([box for _, box, _ in drawn], texts, w, h, fs, taken)
    for (i, box, colour), text, rect in zip(drawn, texts, rects):
        # labels after all boxes, so that no box line crosses a label
        (_, th), _ = cv2.getTextSize(text, FONT, fs, 1)
        cv2.rectangle(out, rect[:2], (rect[2] - 1, rect[3] - 1), colour, -1)
        cv2.rectangle(out, rect[:2], (rect[2] - 1, rect[3] - 1), (0, 0, 0), 1)
        cv2.putText(out, text, (rect[0] + 2, rect[1] + th + 2), FONT, fs, (0, 0, 0), 1,
                    cv2.LINE_AA)
    if caption:
        (cw, ch), base = cv2.getTextSize(caption, FONT, fs, 1)
        cv2.rectangle(out, (0, 0), (cw + 5, ch + base + 5), (255, 255, 255), -1)
        cv2.putText(out, caption, (3, ch + 3), FONT, fs, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def draw_fps(img: np.ndarray, fps: float) -> np.ndarray:
    """Write ``fps`` in the top-left corner of ``img`` (in place) and return it."""
    text = f'{fps:.1f} FPS'
    cv2.putText(img, text, (8, 22), FONT, 0.7, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (8, 22), FONT, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    return img
