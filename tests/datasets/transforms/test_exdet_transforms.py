# Copyright (c) mmcenternet contributors. All rights reserved.
"""LoadExtremePoints and PackExdetInputs."""

import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets.transforms import (LoadExtremePoints, PackExdetInputs)


def test_load_and_pack_extreme_points():
    results = dict(instances=[dict(bbox=[0, 0, 4, 4], bbox_label=0, ignore_flag=0,
                                   extreme_points=[[1, 0], [0, 1], [2, 4], [4, 2]]),
                              dict(bbox=[0, 0, 4, 4], bbox_label=1, ignore_flag=1,
                                   extreme_points=[[1, 1], [1, 1], [3, 3], [3, 3]])])
    results = LoadExtremePoints()(results)
    assert results['gt_extreme_points'].shape == (2, 4, 2)
    results.update(img=np.zeros((8, 8, 3), np.uint8), gt_bboxes=HorizontalBoxes(np.zeros((2, 4))),
                   gt_bboxes_labels=np.array([0, 1]), gt_ignore_flags=np.array([False, True]))
    packed = PackExdetInputs(meta_keys=())(results)['data_samples']
    assert packed.gt_instances.extreme_points.shape == (1, 4, 2)
    assert packed.ignored_instances.extreme_points.tolist() == [[[1, 1], [1, 1], [3, 3], [3, 3]]]
    with pytest.raises(KeyError, match='no extreme_points'):
        LoadExtremePoints()(dict(instances=[dict(bbox=[0, 0, 1, 1])]))
