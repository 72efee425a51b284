# Copyright (c) mmcenternet contributors. All rights reserved.
"""Fast OpenCV drawing of detections (boxes, class names, scores) for the video demo, where the
mmdet visualizer would cost more than the network on a CPU."""
from typing import Optional, Sequence

import cv2
import numpy as np

__all__ = ['draw_detections', 'draw_fps']


def _colour(label: int):
    """A distinct, stable BGR colour per class."""
    hue = (label * 47) % 180
    hsv = np.uint8([[[hue, 200, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_detections(img: np.ndarray, bboxes, scores, labels, score_thr: float = 0.3,
                    classes: Optional[Sequence[str]] = None) -> np.ndarray:
    """Draw detections with ``score >= score_thr`` on a copy of the BGR image.

    Args:
        img: (H, W, 3) uint8 BGR image.
        bboxes: (N, 4) ``x1, y1, x2, y2`` in image pixels (drawn between their corner extremes,
            cut at the image edge; the predictions are not changed).
        scores: (N, ) scores.
        labels: (N, ) 0-based classes.
        score_thr: Smallest score drawn.
        classes: Class names (``class i`` otherwise).

    Returns:
        The drawn image.
    """
    out = img.copy()
    h, w = out.shape[:2]
    bboxes, scores, labels = (np.asarray(v) for v in (bboxes, scores, labels))
    for box, score, label in zip(bboxes, scores, labels):
        if score < score_thr:
            continue
        x1, x2 = sorted((float(box[0]), float(box[2])))
        y1, y2 = sorted((float(box[1]), float(box[3])))
        p1 = (int(max(0, min(w - 1, x1))), int(max(0, min(h - 1, y1))))
        p2 = (int(max(0, min(w - 1, x2))), int(max(0, min(h - 1, y2))))
        colour = _colour(int(label))
        cv2.rectangle(out, p1, p2, colour, 2)
        name = classes[int(label)] if classes is not None and int(label) < len(classes) \
            else f'class {int(label)}'
        text = f'{name} {float(score):.2f}'
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(0, p1[1] - th - base - 2)
        cv2.rectangle(out, (p1[0], top), (p1[0] + tw + 2, top + th + base + 2), colour, -1)
        cv2.putText(out, text, (p1[0] + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return out


def draw_fps(img: np.ndarray, fps: float) -> np.ndarray:
    """Write ``fps`` in the top-left corner of ``img`` (in place) and return it."""
    text = f'{fps:.1f} FPS'
    cv2.putText(img, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img
