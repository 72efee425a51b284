# Copyright (c) mmcenternet contributors. All rights reserved.
"""A small, deterministic COCO person-keypoints dataset of stick figures.

Every figure is a jittered 17-joint COCO skeleton (facing the viewer, so the ``left_*`` joints lie
on the image's right) drawn as grey limbs with a dot per joint; each joint type has its own colour,
so that a network can tell the joints apart without context. Images have textured backgrounds
(the ones of :mod:`mmcenternet.utils.synthetic.shapes`), one to ``max_persons`` figures that do not
overlap, and some joints cut by the image border. The same seed always gives the same files.
Because the joint colours say left from right, the set is meant for training without horizontal
flips and testing without the flip test.
"""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from .shapes import CocoSplitWriter, _background, _overlap

__all__ = ['COCO_KEYPOINT_NAMES', 'COCO_SKELETON', 'STAR5', 'make_stick_figures_dataset']

COCO_KEYPOINT_NAMES = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
                       'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                       'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                       'right_ankle')
#: COCO's limbs, 1-based joint indices as in ``person_keypoints_*.json``.
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7),
                 (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6),
                 (5, 7))

# Joint positions of a figure of height 1 centred on the origin (x right, y down).
_TEMPLATE = np.array([
    [0.0, -0.40], [0.06, -0.45], [-0.06, -0.45], [0.11, -0.42], [-0.11, -0.42], [0.15, -0.27],
    [-0.15, -0.27], [0.22, -0.10], [-0.22, -0.10], [0.26, 0.06], [-0.26, 0.06], [0.10, 0.05],
    [-0.10, 0.05], [0.12, 0.25], [-0.12, 0.25], [0.13, 0.45], [-0.13, 0.45]
], np.float64)
# One colour per joint (BGR), 17 hues evenly spread over the circle at full saturation; joint k
# takes hue 7k mod 17, so that the two joints of a left/right pair get distant hues.
_JOINT_COLOURS = [
    tuple(int(c) for c in cv2.cvtColor(np.uint8([[[int(180 * (7 * k % 17) / 17), 255, 255]]]),
                                       cv2.COLOR_HSV2BGR)[0, 0]) for k in range(17)
]


_COCO_SPREAD = np.full(17, 0.015)
_COCO_SPREAD[7:11] = 0.06  # limbs (elbows, wrists, knees, ankles) move more than the torso
_COCO_SPREAD[13:17] = 0.03

#: A 5-joint figure (head, hands, feet), for custom keypoint sets: names, 1-based skeleton,
#: template (x right, y down, height 1) and jitter per joint.
STAR5 = dict(
    names=('head', 'left_hand', 'right_hand', 'left_foot', 'right_foot'),
    skeleton=((1, 2), (1, 3), (1, 4), (1, 5)),
    template=np.array([[0.0, -0.42], [0.30, -0.05], [-0.30, -0.05], [0.16, 0.45],
                       [-0.16, 0.45]], np.float64),
    spread=np.array([0.015, 0.05, 0.05, 0.03, 0.03]),
    # left and right joints share a colour: a mirrored figure is a valid figure, so the set
    # can train with flips and test with the flip test (its flip pairs come from the metainfo)
    colour_of=(0, 1, 1, 2, 2))
#: The 17 COCO joints (the default).
COCO17 = dict(names=COCO_KEYPOINT_NAMES, skeleton=COCO_SKELETON, template=_TEMPLATE,
              spread=_COCO_SPREAD)


def _joint_colours(num: int) -> List[tuple]:
    """One colour per joint (BGR): hues evenly spread, joint k at hue 7k mod num."""
    return [
        tuple(int(c) for c in cv2.cvtColor(
            np.uint8([[[int(180 * (7 * k % num) / num), 255, 255]]]), cv2.COLOR_HSV2BGR)[0, 0])
        for k in range(num)
    ]


def _figure(rng: np.random.RandomState, cx: float, cy: float, height: float,
            joint_set: dict = COCO17) -> np.ndarray:
    """(K, 2) joints of one figure: the template scaled, slightly squeezed and jittered."""
    template, spread = joint_set['template'], joint_set['spread']
    joints = template * height
    joints[:, 0] *= rng.uniform(0.8, 1.2)
    joints += rng.normal(0, 1, template.shape) * spread[:, None] * height
    return joints + [cx, cy]


def make_stick_figures_dataset(out_dir: str,
                               num_images: int = 16,
                               img_size: Sequence[int] = (128, 128),
                               max_persons: int = 2,
                               height_range: Sequence[float] = (0.45, 0.8),
                               seed: int = 0,
                               split: str = 'train',
                               joint_set: Optional[dict] = None) -> Dict[str, str]:
    """Write ``<out_dir>/<split>/*.png`` and ``<out_dir>/annotations/person_keypoints_<split>.json``.

    Args:
        out_dir: Dataset root.
        num_images: Number of images.
        img_size: ``(w, h)`` of every image.
        max_persons: Up to this many figures per image (at least one).
        height_range: Figure height as a share of the image height.
        seed: Random seed (the output is a pure function of the arguments).
        split: Sub-folder and annotation file name.
        joint_set: The figure's joints (``names``, 1-based ``skeleton``, ``template``,
            ``spread``): the 17 COCO joints by default, or e.g. :data:`STAR5`.

    Returns:
        Paths ``{'root', 'ann_file', 'img_dir'}``.
    """
    joint_set = COCO17 if joint_set is None else joint_set
    names, skeleton = joint_set['names'], joint_set['skeleton']
    num = len(names)
    colours = _JOINT_COLOURS if num == 17 else _joint_colours(num)
    if 'colour_of' in joint_set:
        shared = _joint_colours(max(joint_set['colour_of']) + 1)
        colours = [shared[c] for c in joint_set['colour_of']]
    rng = np.random.RandomState(seed)
    w, h = int(img_size[0]), int(img_size[1])
    out = CocoSplitWriter(out_dir, split, f'person_keypoints_{split}.json')
    for i in range(num_images):
        img = _background(rng, h, w)
        placed: List[List[float]] = []
        for _ in range(rng.randint(1, max_persons + 1)):
            for _try in range(20):
                height = rng.uniform(*height_range) * h
                # centres near the border let some joints fall outside the image
                cx, cy = rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.3 * h, 0.7 * h)
                joints = _figure(rng, cx, cy, height, joint_set)
                box = [*joints.min(0), *joints.max(0)]
                if all(_overlap(box, other) < 0.05 for other in placed):
                    break
            else:
                continue  # no free place left in this image
            placed.append(box)
            for a, b in skeleton:
                p, q = joints[a - 1], joints[b - 1]
                cv2.line(img, (int(round(p[0])), int(round(p[1]))),
                         (int(round(q[0])), int(round(q[1]))), (128, 128, 128), 2)
            inside = (joints[:, 0] >= 0) & (joints[:, 0] <= w - 1) & \
                (joints[:, 1] >= 0) & (joints[:, 1] <= h - 1)
            for k, (x, y) in enumerate(joints):
                centre = (int(round(x)), int(round(y)))
                cv2.circle(img, centre, 3, (0, 0, 0), -1)
                cv2.circle(img, centre, 2, colours[k], -1)
            keypoints = np.zeros((num, 3))
            keypoints[inside, :2] = np.round(joints[inside], 2)
            keypoints[inside, 2] = 2  # labelled and visible; joints outside: (0, 0, 0)
            x1, y1 = max(box[0] - 2, 0.0), max(box[1] - 2, 0.0)
            x2, y2 = min(box[2] + 2, w - 1.0), min(box[3] + 2, h - 1.0)
            out.add_annotation(i + 1, 1, (x1, y1, x2, y2), (x2 - x1) * (y2 - y1),
                               keypoints=keypoints.ravel().tolist(),
                               num_keypoints=int(inside.sum()))
        out.add_image(i, img)
    return out.save([
        dict(id=1, name='person', supercategory='person', keypoints=list(names),
             skeleton=[list(limb) for limb in skeleton])
    ])
