# Copyright (c) mmcenternet contributors. All rights reserved.
"""ctdet targets: empty boxes are skipped but keep their slots."""

import torch
from mmdet.registry import TASK_UTILS


def test_targets_skip_empty_boxes_but_keep_slots():
    gen = TASK_UTILS.build(dict(type='CenterNetTargetGenerator', max_objs=4))
    boxes = torch.tensor([[8., 8., 8., 40.], [8., 8., 40., 40.], [-50., -50., -10., -10.],
                          [0., 0., 12., 12.], [20., 20., 30., 30.]])
    t = gen([boxes], [torch.tensor([0, 1, 0, 1, 1])], 2, (16, 16), stride=4)
    assert t['reg_mask'][0].tolist() == [0, 1, 0, 1]  # zero width, outside, and slot 5 > max
    assert t['ind'][0, 1] == 6 * 16 + 6
    assert t['hm'][0, 1].max() == 1 and t['hm'][0, 0].max() == 0
