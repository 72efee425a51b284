# Copyright (c) mmcenternet contributors. All rights reserved.
"""The test-time transforms, the keep_res canvas and the nominal-scale test resize."""

import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes

from mmcenternet.datasets.transforms import (CenterNetPad, CenterNetTestResize)


def test_keep_res_canvas_and_geometry():
    img = np.full((425, 640, 3), 7, np.uint8)
    out = CenterNetPad(31)(dict(img=img.copy(), gt_bboxes=HorizontalBoxes(
        np.array([[0., 0., 10., 10.]], np.float32))))
    assert out['img'].shape == (448, 672, 3)
    # the image sits at (16, 12) = (672 // 2 - 640 // 2, 448 // 2 - 425 // 2)
    canvas = out['img'][..., 0]
    assert canvas[12, 16] == 7 and canvas[11, 16] == 0 and canvas[12, 15] == 0
    assert canvas[12 + 424, 16 + 639] == 7 and canvas[12 + 425, 16 + 639] == 0
    np.testing.assert_allclose(out['homography_matrix'], [[1, 0, 16], [0, 1, 12], [0, 0, 1]])
    assert out['gt_bboxes'].tensor.tolist() == [[16., 12., 26., 22.]]
    # an exact multiple of 32 still grows by a block; hourglass uses 128
    assert CenterNetPad(31)(dict(img=np.zeros((512, 64, 3), np.uint8)))['img'].shape[:2] == \
        (544, 96)
    assert CenterNetPad(127)(dict(img=np.zeros((300, 129, 3), np.uint8)))['img'].shape[:2] == \
        (384, 256)
    with pytest.raises(ValueError):
        CenterNetPad(30)


def test_test_resize_truncates_and_records_nominal_scale():
    res = CenterNetTestResize(0.75)(dict(img=np.zeros((425, 639, 3), np.uint8)))
    assert res['img'].shape[:2] == (318, 479)  # int(425 * .75), int(639 * .75)
    np.testing.assert_allclose(res['homography_matrix'], np.diag([0.75, 0.75, 1]))
    # a side below the stride is padded to a block as the original does; no pixel left: an error
    small = CenterNetTestResize(0.05)(dict(img=np.zeros((425, 639, 3), np.uint8)))
    assert small['img'].shape[:2] == (21, 31)
    assert CenterNetPad(31)(small)['img'].shape[:2] == (32, 32)
    with pytest.raises(ValueError, match=r'x\.jpg \(639x425\) to 0x0 pixels'):
        CenterNetTestResize(0.001)(dict(img=np.zeros((425, 639, 3), np.uint8), img_path='x.jpg'))
    with pytest.raises(ValueError):
        CenterNetTestResize(0)
