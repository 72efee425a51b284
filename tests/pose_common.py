# Copyright (c) mmcenternet contributors. All rights reserved.
"""What the pose tests share: a tiny synthetic COCO keypoint set and the Hourglass-104 pose
configs and model (a module fixture)."""
import json
import os.path as osp
from collections import OrderedDict

import cv2
import numpy as np
import pytest
from golden import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope


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


CONFIGS = {
    '1x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_1x_coco.py'),
    '3x': osp.join(REPO, 'configs', 'centernet_pose', 'hourglass104_3x_coco.py'),
}


POSE_HEADS = OrderedDict(hm=1, wh=2, hps=34, reg=2, hm_hp=17, hp_offset=2)


@pytest.fixture(scope='module')
def pose_hg():
    """The 1x config's model (191 M backbone parameters: built once)."""
    from mmpose.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.build(Config.fromfile(CONFIGS['1x']).model).eval()
