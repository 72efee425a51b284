# Copyright (c) mmcenternet contributors. All rights reserved.
"""The generated stick-figure keypoint set: COCO format, deterministic, joints cut by borders."""
import filecmp
import json
import os.path as osp

import cv2
import numpy as np

from mmcenternet.utils.synthetic.keypoints import (COCO_KEYPOINT_NAMES, COCO_SKELETON,
                                                   make_stick_figures_dataset)


def test_coco_keypoint_format_and_determinism(tmp_path):
    a = make_stick_figures_dataset(str(tmp_path / 'a'), num_images=12, seed=3)
    b = make_stick_figures_dataset(str(tmp_path / 'b'), num_images=12, seed=3)
    with open(a['ann_file']) as f:
        data = json.load(f)
    with open(b['ann_file']) as f:
        assert json.load(f) == data
    assert filecmp.cmp(osp.join(a['img_dir'], 'train_00007.png'),
                       osp.join(b['img_dir'], 'train_00007.png'), shallow=False)
    (cat, ) = data['categories']
    assert cat['name'] == 'person' and cat['keypoints'] == list(COCO_KEYPOINT_NAMES)
    assert len(cat['skeleton']) == len(COCO_SKELETON)
    assert len(data['images']) == 12
    per_image = np.bincount([a['image_id'] for a in data['annotations']], minlength=13)[1:]
    assert per_image.min() >= 1 and per_image.max() <= 2
    outside = 0
    for ann in data['annotations']:
        kps = np.asarray(ann['keypoints'], float).reshape(17, 3)
        assert set(kps[:, 2]) <= {0.0, 2.0}
        assert ann['num_keypoints'] == int((kps[:, 2] > 0).sum())
        outside += int((kps[:, 2] == 0).sum())
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 127 and y + h <= 127
        vis = kps[kps[:, 2] > 0, :2]
        assert np.all(vis >= [x - 1e-6, y - 1e-6]) and np.all(vis <= [x + w + 1e-6, y + h + 1e-6])
        # the joint is drawn where it is annotated: its pixel is not the grey of the limbs
        img = cv2.imread(osp.join(a['img_dir'], f"train_{ann['image_id'] - 1:05d}.png"))
        for px, py in np.round(vis).astype(int):
            assert tuple(img[py, px]) != (128, 128, 128)
    assert outside > 0  # some figures are cut by the image border
