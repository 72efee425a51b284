# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exdet COCO dataset reads extreme points, derives missing ones and names bad annotations."""
import json

import cv2
import numpy as np
import pytest

from mmcenternet.datasets import (CenterNetExdetCocoDataset, DatasetFormatError)


def _write_coco(path, annotations, images=None, names=('a', 'b')):
    images = images or [dict(id=1, file_name='a.png', width=40, height=30)]
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=cats), f)


def _ann(i, **kw):
    return dict(dict(id=i, image_id=1, category_id=1, bbox=[2, 2, 10, 10], area=100, iscrowd=0),
                **kw)


def test_dataset_reads_points_derives_missing_ones_and_names_bad_annotations(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40, 3), np.uint8))
    good = [
        _ann(1, extreme_points=[[5, 2], [2, 6], [6, 12], [12, 7]]),
        _ann(2, segmentation=[[10, 3, 4, 9, 10, 20, 18, 8]]),
        # points outside their box and in the wrong order are used as they are (the original)
        _ann(3, extreme_points=[[5, 25], [2, 6], [6, 1], [35, 7]], iscrowd=1),
    ]
    ann_file = str(tmp_path / 'ok.json')
    _write_coco(ann_file, good)
    ds = CenterNetExdetCocoDataset(ann_file=ann_file, data_prefix=dict(img=str(tmp_path)),
                                   metainfo=dict(classes=('a', 'b')), pipeline=[])
    insts = ds.get_data_info(0)['instances']
    assert [i['extreme_points'] for i in insts] == [
        [[5, 2], [2, 6], [6, 12], [12, 7]], [[10, 3], [4, 9], [10, 20], [18, 8]],
        [[5, 25], [2, 6], [6, 1], [35, 7]]]
    assert insts[2]['ignore_flag'] == 0  # crowd regions are objects, as in the original

    cases = [
        ([_ann(1), _ann(7)], 'annotation 1 of image 1'),  # neither points nor polygons
        ([_ann(4, extreme_points=[[1, 2], [3, 4]])], 'annotation 4 of image 1'),  # malformed
        ([_ann(5, segmentation={'size': [30, 40], 'counts': [1200]})],
         'annotation 5 of image 1'),  # empty mask
    ]
    for anns, message in cases:
        bad = str(tmp_path / 'bad.json')
        _write_coco(bad, anns)
        with pytest.raises(DatasetFormatError, match=message):
            CenterNetExdetCocoDataset(ann_file=bad, data_prefix=dict(img=str(tmp_path)),
                                      metainfo=dict(classes=('a', 'b')), pipeline=[])
    only_field = str(tmp_path / 'field.json')
    _write_coco(only_field, [_ann(9, segmentation=[[1, 1, 5, 1, 3, 6]])])
    with pytest.raises(DatasetFormatError, match='annotation 9 .* has no extreme_points'):
        CenterNetExdetCocoDataset(ann_file=only_field, data_prefix=dict(img=str(tmp_path)),
                                  metainfo=dict(classes=('a', 'b')), pipeline=[],
                                  extreme_points_source='annotation')
