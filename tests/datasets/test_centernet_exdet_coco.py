# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exdet COCO dataset reads extreme points, derives missing ones and names bad annotations."""

import cv2
import numpy as np
import pytest

from mmcenternet.datasets import (CenterNetExdetCocoDataset, DatasetFormatError)
from exdet_data_common import exdet_annotation, write_coco  # noqa: F401


def test_dataset_reads_points_derives_missing_ones_and_names_bad_annotations(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40, 3), np.uint8))
    good = [
        exdet_annotation(1, extreme_points=[[5, 2], [2, 6], [6, 12], [12, 7]]),
        exdet_annotation(2, segmentation=[[10, 3, 4, 9, 10, 20, 18, 8]]),
        # points outside their box and in the wrong order are used as they are (the original)
        exdet_annotation(3, extreme_points=[[5, 25], [2, 6], [6, 1], [35, 7]], iscrowd=1),
    ]
    ann_file = str(tmp_path / 'ok.json')
    write_coco(ann_file, good)
    ds = CenterNetExdetCocoDataset(ann_file=ann_file, data_prefix=dict(img=str(tmp_path)),
                                   metainfo=dict(classes=('a', 'b')), pipeline=[])
    insts = ds.get_data_info(0)['instances']
    assert [i['extreme_points'] for i in insts] == [
        [[5, 2], [2, 6], [6, 12], [12, 7]], [[10, 3], [4, 9], [10, 20], [18, 8]],
        [[5, 25], [2, 6], [6, 1], [35, 7]]]
    assert insts[2]['ignore_flag'] == 0  # crowd regions are objects, as in the original

    cases = [
        # neither points nor polygons
        ([exdet_annotation(1), exdet_annotation(7)], 'annotation 1 of image 1'),
        # malformed
        ([exdet_annotation(4, extreme_points=[[1, 2], [3, 4]])], 'annotation 4 of image 1'),
        ([exdet_annotation(5, segmentation={'size': [30, 40], 'counts': [1200]})],
         'annotation 5 of image 1'),  # empty mask
    ]
    for anns, message in cases:
        bad = str(tmp_path / 'bad.json')
        write_coco(bad, anns)
        with pytest.raises(DatasetFormatError, match=message):
            CenterNetExdetCocoDataset(ann_file=bad, data_prefix=dict(img=str(tmp_path)),
                                      metainfo=dict(classes=('a', 'b')), pipeline=[])
    only_field = str(tmp_path / 'field.json')
    write_coco(only_field, [exdet_annotation(9, segmentation=[[1, 1, 5, 1, 3, 6]])])
    with pytest.raises(DatasetFormatError, match='annotation 9 .* has no extreme_points'):
        CenterNetExdetCocoDataset(ann_file=only_field, data_prefix=dict(img=str(tmp_path)),
                                  metainfo=dict(classes=('a', 'b')), pipeline=[],
                                  extreme_points_source='annotation')
