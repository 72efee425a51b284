# Copyright (c) mmcenternet contributors. All rights reserved.
"""An original multi_pose_hg checkpoint layout converts onto the model exactly."""
from collections import OrderedDict

import pytest
import torch
from golden import load_json

from mmcenternet.utils.convert_official import convert_state_dict, detect_architecture
from pose_common import CONFIGS, POSE_HEADS, pose_hg  # noqa: F401


def _original_multi_pose_hourglass_keys():
    """multi_pose_hg keys / shapes in the original layout as meta tensors: the ctdet hourglass
    backbone of the golden manifest and, per stack, ``<head>.<s>.0.conv.*`` (3x3 conv 256 with
    bias) + ``<head>.<s>.1.*`` (1x1 conv) for the six pose heads (spec 2.4)."""
    manifest = load_json('nets', 'manifest_hourglass_ctdet.json')
    sd = OrderedDict((e['key'], torch.empty(e['shape'], device='meta'))
                     for e in manifest['entries'] if e['key'].split('.')[0] not in POSE_HEADS)
    for name, channels in POSE_HEADS.items():
        for s in range(2):
            sd[f'{name}.{s}.0.conv.weight'] = torch.empty(256, 256, 3, 3, device='meta')
            sd[f'{name}.{s}.0.conv.bias'] = torch.empty(256, device='meta')
            sd[f'{name}.{s}.1.weight'] = torch.empty(channels, 256, 1, 1, device='meta')
            sd[f'{name}.{s}.1.bias'] = torch.empty(channels, device='meta')
    return sd


@pytest.mark.golden
def test_original_checkpoint_converts_onto_the_model(pose_hg):
    """An original multi_pose_hg checkpoint converts onto exactly the model's keys and shapes."""
    sd = pose_hg.state_dict()
    original = _original_multi_pose_hourglass_keys()
    assert len(original) == 1008  # centernet-spec 2.6
    info = detect_architecture(original)
    assert (info['arch'], info['task'], info['num_stacks']) == ('hourglass', 'multi_pose', 2)
    converted = convert_state_dict(original, info)
    assert {k: tuple(v.shape) for k, v in converted.items()} == \
        {k: tuple(v.shape) for k, v in sd.items()}
