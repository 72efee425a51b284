# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO person-keypoint data as the original reads it."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmcenternet.utils.errors import DatasetFormatError
from mmcenternet.datasets import CenterNetCocoPoseDataset


def _kps(x0, y0, v=2, n=17):
    out = []
    for j in range(n):
        out += [x0 + 3 * j, y0 + 2 * j, v]
    return out


def _coco(tmp_path, anns, images=((1, 60, 80), (2, 60, 80), (3, 60, 80))):
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


def _ann(ann_id, img_id, bbox, keypoints, crowd=0):
    num = sum(1 for v in keypoints[2::3] if v > 0)
    return dict(id=ann_id, image_id=img_id, category_id=1, bbox=bbox, keypoints=keypoints,
                num_keypoints=num, iscrowd=crowd, area=bbox[2] * bbox[3],
                segmentation=[[bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1], bbox[0] + bbox[2],
                               bbox[1] + bbox[3]]])


ANNS = [
    _ann(10, 1, [5, 5, 30, 40], _kps(8, 8)),
    _ann(11, 1, [40, 10, 60, 70], [0] * 51, crowd=1),  # crowd region, no keypoints, exceeds image
    _ann(12, 3, [2.5, 3.25, 20, 30], _kps(4, 5, v=1)),
]


def _dataset(path, **kwargs):
    with DefaultScope.overwrite_default_scope('mmpose'):
        return CenterNetCocoPoseDataset(ann_file=path, data_root='',
                                        data_prefix=dict(img=osp.dirname(path) + '/'),
                                        pipeline=[], **kwargs)


def test_training_keeps_every_annotation_of_annotated_images(tmp_path):
    ds = _dataset(_coco(tmp_path, ANNS))
    assert len(ds) == 2  # image 2 has no annotation
    first = ds[0]
    assert first['img_id'] == 1 and list(first['id']) == [10, 11]
    np.testing.assert_array_equal(first['bbox'], np.array([[5, 5, 35, 45], [40, 10, 100, 80]],
                                                          np.float32))  # not clipped
    assert first['keypoints'].shape == (2, 17, 2)
    np.testing.assert_array_equal(first['keypoints_visible'][0], np.ones(17))
    np.testing.assert_array_equal(first['keypoints_visible'][1], np.zeros(17))
    assert list(first['iscrowd']) == [0, 1]
    assert first['flip_indices'][1] == 2
    third = ds[1]
    np.testing.assert_array_equal(third['bbox'], [[2.5, 3.25, 22.5, 33.25]])
    np.testing.assert_array_equal(third['keypoints_visible'], np.ones((1, 17)))  # v = 1 counts


def test_testing_lists_every_image(tmp_path):
    ds = _dataset(_coco(tmp_path, ANNS), test_mode=True)
    assert sorted(d['img_id'] for d in (ds[i] for i in range(len(ds)))) == [1, 2, 3]


@pytest.mark.parametrize('bad,message', [
    (dict(keypoints=[1, 2, 2] * 16), 'annotation 99 of image 1 .* 48 keypoint values; expected 51'),
    (dict(keypoints=None), 'annotation 99 of image 1 .* no "keypoints" field'),
    (dict(bbox=[1, 2, 3]), r'annotation 99 of image 1 .* no \[x, y, w, h\] bbox'),
])
def test_bad_annotations_name_the_culprit(tmp_path, bad, message):
    ann = _ann(99, 1, [5, 5, 30, 40], _kps(8, 8))
    ann.update(bad)
    if ann['keypoints'] is None:
        del ann['keypoints']
    with pytest.raises(DatasetFormatError, match=message):
        _dataset(_coco(tmp_path, [ann]))


def test_bottomup_only(tmp_path):
    with pytest.raises(ValueError, match='bottom-up only'):
        _dataset(_coco(tmp_path, ANNS), data_mode='topdown')
