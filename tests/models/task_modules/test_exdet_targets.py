# Copyright (c) mmcenternet contributors. All rights reserved.
"""exdet targets: bad geometry skipped, max_objs respected, class-agnostic maps."""

import torch

from mmcenternet.models.task_modules import CenterNetExdetTargetGenerator


def test_targets_skip_bad_geometry_respect_max_objs_and_agnostic_maps():
    gen = CenterNetExdetTargetGenerator(max_objs=3)
    pts = torch.tensor([
        [[20., 4.], [4., 20.], [20., 36.], [36., 20.]],  # valid
        [[20., 36.], [4., 20.], [20., 4.], [36., 20.]],  # bottom above top: skipped
        [[8., 8.], [8., 8.], [8., 8.], [8., 8.]],  # zero size: skipped
        [[40., 4.], [30., 12.], [40., 20.], [50., 12.]],  # beyond max_objs: no target
    ])
    labels = torch.tensor([1, 1, 0, 0])
    t = gen([pts], [labels], 2, (16, 16), stride=4, agnostic=True)
    assert t['reg_mask'][0].tolist() == [1, 0, 0]
    assert t['hm_t'].shape == (1, 1, 16, 16) and t['hm_c'].shape == (1, 2, 16, 16)
    assert t['hm_t'][0, 0, 1, 5] == 1 and t['hm_l'][0, 0, 5, 1] == 1
    assert t['hm_c'][0, 1, 5, 5] == 1 and t['hm_c'][0, 0].max() == 0
    assert int((t['hm_t'] == 1).sum()) == 1  # the skipped and the extra objects draw nothing
    assert t['ind_r'][0].tolist() == [5 * 16 + 9, 0, 0]
