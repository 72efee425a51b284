# Copyright (c) mmcenternet contributors. All rights reserved.
"""Ground-truth boxes of a COCO-format annotation file, by image file name (for drawing)."""
import json
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np

from mmcenternet.utils.errors import DatasetFormatError

__all__ = ['coco_boxes_by_file', 'coco_keypoints_by_file']


def coco_boxes_by_file(ann_file: str, classes: Sequence[str]
                       ) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Boxes and labels of every image in ``ann_file``, keyed by the image's file base name.

    Args:
        ann_file: COCO-format json.
        classes: The model's class names; each category is matched by name (categories the
            model does not know are refused, so that a picture never shows wrong names).

    Returns:
        ``{file name: (bboxes (N, 4) x1 y1 x2 y2, labels (N, ) 0-based in classes)}``; crowd
        boxes included, as the original trains on them.
    """
    if not osp.isfile(ann_file):
        raise DatasetFormatError(f'annotation file not found: {ann_file}')
    try:
        with open(ann_file) as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco['categories']}
        images = {im['id']: osp.basename(im['file_name']) for im in coco['images']}
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetFormatError(f'{ann_file}: not a COCO detection file ({exc!r})') from None
    index = {name: k for k, name in enumerate(classes)}
    unknown = sorted(set(names.values()) - set(index))
    if unknown:
        raise DatasetFormatError(f'{ann_file}: categories {unknown} are not among the model\'s '
                                 f'classes {list(classes)}')
    boxes: Dict[int, list] = {i: [] for i in images}
    for ann in coco.get('annotations', []):
        try:
            x, y, w, h = (float(v) for v in ann['bbox'])
            label = index[names[ann['category_id']]]
            boxes[ann['image_id']].append((x, y, x + w, y + h, label))
        except (KeyError, ValueError, TypeError):
            raise DatasetFormatError(f'{ann_file}: annotation {ann.get("id")} has a missing or '
                                     'bad bbox, category_id or image_id') from None
    out = {}
    for image_id, name in images.items():
        rows = np.asarray(boxes[image_id], np.float32).reshape(-1, 5)
        out[name] = (rows[:, :4], rows[:, 4].astype(np.int64))
    return out


def coco_keypoints_by_file(ann_file: str) -> Dict[str, dict]:
    """Persons of a COCO keypoints file, keyed by the image's file base name (for drawing).

    Returns:
        ``{file name: {'bboxes': (N, 4) x1 y1 x2 y2, 'keypoints': (N, K, 2),
        'visible': (N, K) bool (COCO v > 0)}}``.
    """
    if not osp.isfile(ann_file):
        raise DatasetFormatError(f'annotation file not found: {ann_file}')
    try:
        with open(ann_file) as f:
            coco = json.load(f)
        images = {im['id']: osp.basename(im['file_name']) for im in coco['images']}
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetFormatError(f'{ann_file}: not a COCO keypoints file ({exc!r})') from None
    persons: Dict[int, list] = {i: [] for i in images}
    for ann in coco.get('annotations', []):
        try:
            x, y, w, h = (float(v) for v in ann['bbox'])
            kps = np.asarray(ann['keypoints'], np.float32).reshape(-1, 3)
            persons[ann['image_id']].append(((x, y, x + w, y + h), kps))
        except (KeyError, ValueError, TypeError):
            raise DatasetFormatError(f'{ann_file}: annotation {ann.get("id")} has a missing or '
                                     'bad bbox, keypoints or image_id') from None
    out = {}
    for image_id, name in images.items():
        rows = persons[image_id]
        k = rows[0][1].shape[0] if rows else 0
        out[name] = dict(
            bboxes=np.asarray([r[0] for r in rows], np.float32).reshape(-1, 4),
            keypoints=np.asarray([r[1][:, :2] for r in rows], np.float32).reshape(-1, k, 2),
            visible=np.asarray([r[1][:, 2] > 0 for r in rows], bool).reshape(-1, k))
    return out
