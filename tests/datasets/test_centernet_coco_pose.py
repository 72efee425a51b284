# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO person-keypoint data as the original reads it."""
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmcenternet.utils.errors import DatasetFormatError
from mmcenternet.datasets import CenterNetCocoPoseDataset
from keypoint_data import person_annotation, write_keypoint_coco, keypoint_list, ANNS  # noqa: F401


def _dataset(path, **kwargs):
    with DefaultScope.overwrite_default_scope('mmpose'):
        return CenterNetCocoPoseDataset(ann_file=path, data_root='',
                                        data_prefix=dict(img=osp.dirname(path) + '/'),
                                        pipeline=[], **kwargs)


def test_training_keeps_every_annotation_of_annotated_images(tmp_path):
    ds = _dataset(write_keypoint_coco(tmp_path, ANNS))
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
    ds = _dataset(write_keypoint_coco(tmp_path, ANNS), test_mode=True)
    assert sorted(d['img_id'] for d in (ds[i] for i in range(len(ds)))) == [1, 2, 3]


@pytest.mark.parametrize('bad,message', [
    (dict(keypoints=[1, 2, 2] * 16), 'annotation 99 of image 1 .* 48 keypoint values; expected 51'),
    (dict(keypoints=None), 'annotation 99 of image 1 .* no "keypoints" field'),
    (dict(bbox=[1, 2, 3]), r'annotation 99 of image 1 .* no \[x, y, w, h\] bbox'),
])
def test_bad_annotations_name_the_culprit(tmp_path, bad, message):
    ann = person_annotation(99, 1, [5, 5, 30, 40], keypoint_list(8, 8))
    ann.update(bad)
    if ann['keypoints'] is None:
        del ann['keypoints']
    with pytest.raises(DatasetFormatError, match=message):
        _dataset(write_keypoint_coco(tmp_path, [ann]))


def test_bottomup_only(tmp_path):
    with pytest.raises(ValueError, match='bottom-up only'):
        _dataset(write_keypoint_coco(tmp_path, ANNS), data_mode='topdown')
