# Copyright (c) mmcenternet contributors. All rights reserved.
"""Small COCO person-keypoint files for the dataset and metric tests."""
import json
import os.path as osp

import cv2
import numpy as np


def keypoint_list(x0, y0, v=2, n=17):
    out = []
    for j in range(n):
        out += [x0 + 3 * j, y0 + 2 * j, v]
    return out


def write_keypoint_coco(tmp_path, anns, images=((1, 60, 80), (2, 60, 80), (3, 60, 80))):
    data = dict(
        images=[dict(id=i, file_name=f'{i}.jpg', height=h, width=w) for i, h, w in images],
        annotations=anns,
        categories=[dict(id=1, name='person', keypoints=[f'j{i}' for i in range(17)],
                         skeleton=[])])
    path = osp.join(str(tmp_path), 'kp.json')
    with open(path, 'w') as f:
        json.dump(data, f)
    for i, h, w in images:
        cv2.imwrite(osp.join(str(tmp_path), f'{i}.jpg'), np.full((h, w, 3), 80, np.uint8))
    return path


def person_annotation(ann_id, img_id, bbox, keypoints, crowd=0):
    num = sum(1 for v in keypoints[2::3] if v > 0)
    return dict(id=ann_id, image_id=img_id, category_id=1, bbox=bbox, keypoints=keypoints,
                num_keypoints=num, iscrowd=crowd, area=bbox[2] * bbox[3],
                segmentation=[[bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1], bbox[0] + bbox[2],
                               bbox[1] + bbox[3]]])


ANNS = [
    person_annotation(10, 1, [5, 5, 30, 40], keypoint_list(8, 8)),
    # a crowd region without keypoints that exceeds the image
    person_annotation(11, 1, [40, 10, 60, 70], [0] * 51, crowd=1),
    person_annotation(12, 3, [2.5, 3.25, 20, 30], keypoint_list(4, 5, v=1)),
]
