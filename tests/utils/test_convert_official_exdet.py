# Copyright (c) mmcenternet contributors. All rights reserved.
"""Hourglass-104 exdet checkpoints (CenterNet and ExtremeNet layouts) convert onto the head."""
import os.path as osp
from collections import OrderedDict

import torch
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config

from mmcenternet.utils.convert_official import (convert_init_state_dict, convert_state_dict,
                                                detect_architecture)

HEADS = ('hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r')


def _cfg(name):
    return Config.fromfile(osp.join(REPO, 'configs', 'centernet_exdet', name))


def _hourglass_original_keys(prefix_heads, num_classes=80, heads=HEADS):
    """A minimal original-layout hourglass exdet state dict: backbone markers + all heads."""
    sd = OrderedDict()
    sd['pre.0.conv.weight'] = torch.zeros(1)
    sd['kps.0.up1.0.conv1.weight'] = torch.zeros(1)
    for name in heads:
        out = 2 if 'reg' in name else num_classes
        new = prefix_heads.get(name, name)
        for s in range(2):
            sd[f'{new}.{s}.0.conv.weight'] = torch.randn(256, 256, 3, 3) * 0.01
            sd[f'{new}.{s}.0.conv.bias'] = torch.randn(256)
            sd[f'{new}.{s}.1.weight'] = torch.randn(out, 256, 1, 1)
            sd[f'{new}.{s}.1.bias'] = torch.randn(out)
    return sd


def test_hourglass_exdet_checkpoints_convert_onto_the_head():
    head = MODELS.build(_cfg('hourglass104_coco.py').model.bbox_head)
    own = {f'bbox_head.{k}': v for k, v in head.state_dict().items()}
    # a CenterNet exdet_coco_hg file
    sd = _hourglass_original_keys({})
    info = detect_architecture(sd)
    assert (info['arch'], info['task'], info['num_classes'], info['num_stacks']) == \
        ('hourglass', 'exdet', 80, 2)
    converted = convert_state_dict({k: v for k, v in sd.items() if k.split('.')[0] in HEADS},
                                   info)
    assert set(converted) == set(own)
    for k, v in converted.items():
        assert v.shape == own[k].shape, k
    torch.testing.assert_close(converted['bbox_head.head_module.hm_c.1.2.weight'],
                               sd['hm_c.1.1.weight'])
    # ExtremeNet's own file (t_heats ... r_regrs) as the initialisation of an exdet model
    names = dict(hm_t='t_heats', hm_l='l_heats', hm_b='b_heats', hm_r='r_heats', hm_c='ct_heats',
                 reg_t='t_regrs', reg_l='l_regrs', reg_b='b_regrs', reg_r='r_regrs')
    ext = _hourglass_original_keys(names)
    init, meta = convert_init_state_dict(
        {k: v for k, v in ext.items() if k.split('.')[0] in names.values() or
         k.startswith('pre.')} | {'kps.0.up1.0.conv1.weight': torch.zeros(1)}, 'exdet')
    assert meta['source'] == 'extremenet' and sorted(meta['kept_heads']) == sorted(HEADS)
    assert {k for k in init if k.startswith('bbox_head.')} == set(own)
