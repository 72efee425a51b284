# Copyright (c) mmcenternet contributors. All rights reserved.
"""A tiny synthetic COCO keypoint set shared by the pose tool tests."""
import json
import os.path as osp

import cv2
import numpy as np


def write_keypoint_set(root: str) -> None:
    """``<root>/kp.json`` + 4 random 80x60 images: 3 annotated persons, a crowd region and an
    image without persons (COCO keypoint format, 17 joints)."""
    rng = np.random.default_rng(0)
    images, anns = [], []
    for i in range(1, 5):
        cv2.imwrite(osp.join(root, f'{i}.jpg'), rng.integers(0, 255, (60, 80, 3), np.uint8))
        images.append(dict(id=i, file_name=f'{i}.jpg', height=60, width=80))
        if i == 4:
            continue  # an image without persons: not a training sample, but evaluated
        kps = np.c_[rng.uniform(10, 50, (17, 2)), np.full(17, 2)].ravel().tolist()
        anns.append(dict(id=i, image_id=i, category_id=1, bbox=[5, 5, 50, 45], keypoints=kps,
                         num_keypoints=17, iscrowd=0, area=2250.0))
    anns.append(dict(id=9, image_id=1, category_id=1, bbox=[40, 20, 30, 30], keypoints=[0] * 51,
                     num_keypoints=0, iscrowd=1, area=900.0))  # a crowd region
    cats = [dict(id=1, name='person', keypoints=[f'j{k}' for k in range(17)], skeleton=[])]
    with open(osp.join(root, 'kp.json'), 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
