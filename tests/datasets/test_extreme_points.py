# Copyright (c) mmcenternet contributors. All rights reserved.
"""Extreme points from polygons, masks and RLE (tie rules) and ExtremeNet band points."""

import numpy as np

from mmcenternet.datasets import (extreme_points_from_mask, extreme_points_from_polygons,
                                  extreme_points_from_segmentation)


def test_polygon_rule_first_vertex_on_ties():
    # two polygons; the smallest y (0) is reached by vertices (4, 0) and (9, 0): the first wins
    polys = [[4, 0, 9, 0, 12, 6, 6, 10], [0, 5, 1, 2, 0, 8, 12, 9]]
    pts = extreme_points_from_polygons(polys)
    np.testing.assert_array_equal(pts, [[4, 0], [0, 5], [6, 10], [12, 6]])
    # bottom and right may be the same vertex
    np.testing.assert_array_equal(extreme_points_from_polygons([[0, 0, 5, 2, 9, 9]]),
                                  [[0, 0], [0, 0], [9, 9], [9, 9]])


def test_mask_rule_and_rle():
    mask = np.zeros((12, 14), np.uint8)
    mask[3:8, 4:10] = 1
    mask[2, 6:8] = 1  # top row: (6, 2) is its first pixel
    mask[5:7, 11] = 1  # right column: (11, 5) is its top pixel
    expected = [[6, 2], [4, 3], [4, 7], [11, 5]]
    np.testing.assert_array_equal(extreme_points_from_mask(mask), expected)
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    np.testing.assert_array_equal(extreme_points_from_segmentation(rle, 12, 14), expected)


def test_extremenet_band_rule():
    # ExtremeNet's files: the middle of the vertices within 2 % of the extent, truncated
    poly = [[10, 0, 12, 0.1, 20, 10, 11, 30, 0, 12, 0.1, 11]]
    np.testing.assert_array_equal(extreme_points_from_segmentation(poly, 40, 40, 'extremenet'),
                                  [[11, 0], [0, 11], [11, 30], [20, 10]])
