# Copyright (c) mmcenternet contributors. All rights reserved.
"""The multi_pose Hourglass-104 model: the original layout, two stacks trained and the last
tested, inputs that are not multiples of 128 refused."""

import pytest
import torch
from pose_common import CONFIGS, POSE_HEADS, pose_hg  # noqa: F401


def test_model_has_the_original_layout(pose_hg):
    sd = pose_hg.state_dict()
    # centernet-spec 2.6: a multi_pose hourglass checkpoint has 1008 keys
    assert len(sd) == 1008
    head = pose_hg.head
    assert head.num_stacks == 2 and head.head_module.heads == dict(POSE_HEADS)
    for s in range(2):
        # only heat-map biases are set: `hm` and `hm_hp` (the original tests 'hm' in the name)
        assert torch.all(head.head_module.hm[s][-1].bias == -2.19)
        assert torch.all(head.head_module.hm_hp[s][-1].bias == -2.19)
        assert not torch.all(head.head_module.hps[s][-1].bias == 0)  # PyTorch default init


def test_two_stacks_trained_last_stack_tested(pose_hg):
    x = torch.zeros(1, 3, 128, 256)
    with torch.no_grad():
        feats = pose_hg.extract_feat(x)
        outs = pose_hg.head(feats)
    assert len(feats) == 2 and tuple(feats[1].shape) == (1, 256, 32, 64)
    # stack 0 heads, then stack 1 heads, each in the original order
    assert [o.shape[1] for o in outs] == list(POSE_HEADS.values()) * 2


def test_input_not_a_multiple_of_128_is_a_clear_error(pose_hg):
    with pytest.raises(ValueError, match=r'input of 96x256 pixels .* multiples of 128'):
        pose_hg.extract_feat(torch.zeros(1, 3, 96, 256))
