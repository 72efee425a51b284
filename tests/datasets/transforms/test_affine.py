# Copyright (c) mmcenternet contributors. All rights reserved.
"""The affine helpers, the border rule of the random crop."""


from mmcenternet.datasets.transforms import get_border


def test_border_rule():
    sizes = (640, 257, 256, 129, 128, 65)
    assert [get_border(128, s) for s in sizes] == [128, 128, 64, 64, 32, 32]
