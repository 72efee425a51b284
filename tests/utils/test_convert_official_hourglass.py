# Copyright (c) mmcenternet contributors. All rights reserved.
"""Converting Hourglass-104 files (CenterNet, ExtremeNet and CornerNet layouts), through the
functions and the converter tool, and its errors."""
import importlib.util
import os.path as osp
from collections import OrderedDict

import pytest
import torch
from golden import REPO, load_json

from mmcenternet.utils.checkpoint_io import torch_load
from mmcenternet.utils.convert_official import (OfficialCheckpointError, convert_checkpoint,
                                                convert_init_state_dict, convert_state_dict,
                                                detect_architecture, detect_hourglass_source)
from hourglass_common import cfg, CONFIG, HEADS, hg_model  # noqa: F401


def _original_keys_with_shapes():
    """The original hourglass ctdet keys / shapes (golden manifest) as meta tensors."""
    manifest = load_json('nets', 'manifest_hourglass_ctdet.json')
    return OrderedDict(
        (e['key'], torch.empty(e['shape'], device='meta', dtype=getattr(torch, e['dtype'])))
        for e in manifest['entries'])


def _extremenet_head(name, channels, stacks=2):
    """An ExtremeNet/CornerNet-style head ``<name>.<s>.0.conv.*`` + ``<name>.<s>.1.*``."""
    out = OrderedDict()
    for s in range(stacks):
        out[f'{name}.{s}.0.conv.weight'] = torch.empty(256, 256, 3, 3, device='meta')
        out[f'{name}.{s}.0.conv.bias'] = torch.empty(256, device='meta')
        out[f'{name}.{s}.1.weight'] = torch.empty(channels, 256, 1, 1, device='meta')
        out[f'{name}.{s}.1.bias'] = torch.empty(channels, device='meta')
    return out


@pytest.mark.golden
def test_extremenet_checkpoint_initialises_the_backbone(hg_model):
    original = _original_keys_with_shapes()
    # ExtremeNet_500000.pkl: CenterNet's backbone keys, ExtremeNet's heads, written by
    # PyTorch 0.4.0 (no num_batches_tracked)
    ext = OrderedDict((k, v) for k, v in original.items()
                      if k.split('.')[0] not in HEADS and not k.endswith('num_batches_tracked'))
    for name in ('t_heats', 'l_heats', 'b_heats', 'r_heats', 'ct_heats'):
        ext.update(_extremenet_head(name, 80))
    for name in ('t_regrs', 'l_regrs', 'b_regrs', 'r_regrs'):
        ext.update(_extremenet_head(name, 2))
    assert detect_hourglass_source(ext) == 'extremenet'
    own = hg_model.state_dict()
    backbone = {k: v for k, v in own.items() if k.startswith('backbone.')}

    new, info = convert_init_state_dict(ext, 'ctdet')
    assert info['source'] == 'extremenet' and info['kept_heads'] == []
    assert info['dropped'] == [
        'hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r'
    ]
    assert set(new) == set(backbone)  # the whole backbone, counters added, no head
    for key, value in new.items():
        assert tuple(value.shape) == tuple(backbone[key].shape), key

    # the same file as an exdet initialisation keeps ExtremeNet's (renamed) heads
    new, info = convert_init_state_dict(ext, 'exdet')
    assert info['kept_heads'] == [
        'hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r'
    ] and info['dropped'] == []
    assert tuple(new['bbox_head.head_module.hm_c.1.2.weight'].shape) == (80, 256, 1, 1)
    assert tuple(new['bbox_head.head_module.reg_r.0.0.weight'].shape) == (256, 256, 3, 3)

    # CornerNet: same backbone, corner heads dropped
    corner = OrderedDict(
        (k, v) for k, v in ext.items() if not k.split('.')[0].endswith(('_heats', '_regrs')))
    corner.update(_extremenet_head('tl_heats', 80))
    corner.update(_extremenet_head('br_regrs', 2))
    corner['tl_cnvs.p1_conv1.conv.weight'] = torch.empty(128, 256, 3, 3, device='meta')
    assert detect_hourglass_source(corner) == 'cornernet'
    new, info = convert_init_state_dict(corner, 'ctdet')
    assert set(new) == set(backbone) and info['source'] == 'cornernet'
    assert info['dropped'] == ['tl_heats', 'br_regrs', 'tl_cnvs']


@pytest.mark.golden
def test_hourglass_multi_pose_checkpoint_keys():
    """multi_pose_hg checkpoints: the same backbone, six heads per stack on ``head.head_module``."""
    sd = _original_keys_with_shapes()
    for name, ch in (('hps', 34), ('hm_hp', 17), ('hp_offset', 2)):
        sd.update(_extremenet_head(name, ch))
    sd.update(_extremenet_head('hm', 1))
    info = detect_architecture(sd)
    assert (info['arch'], info['task'], info['num_classes']) == ('hourglass', 'multi_pose', 1)
    new = convert_state_dict(sd, info)
    assert len(new) == len(sd)
    assert tuple(new['head.head_module.hps.1.2.weight'].shape) == (34, 256, 1, 1)
    assert tuple(new['head.head_module.hm_hp.0.0.bias'].shape) == (256, )
    assert 'backbone.hourglass_modules.1.low2.low2.low2.low2.low2.3.bn2.running_var' in new
    # initialising the pose model from ctdet_coco_hg keeps the shared heads (hm's 80 classes are
    # then skipped at load time by shape, as in the original's loader)
    new, info = convert_init_state_dict(_original_keys_with_shapes(), 'multi_pose')
    assert info['source'] == 'centernet' and info['kept_heads'] == list(HEADS)
    assert 'head.head_module.wh.1.2.bias' in new


def _tiny_extremenet():
    """A few ExtremeNet keys covering every renaming rule (values are tiny stand-ins)."""
    keys = [
        'pre.0.conv.weight', 'pre.0.bn.running_mean', 'pre.1.conv1.weight', 'pre.1.skip.0.weight',
        'pre.1.skip.1.running_mean', 'kps.0.low1.0.skip.1.bias',
        'kps.1.low2.low2.low2.low2.low2.3.bn2.running_mean', 'kps.0.low2.low3.1.skip.0.weight',
        'cnvs.1.conv.weight', 'cnvs.0.bn.running_mean', 'inters.0.conv2.weight',
        'inters.0.bn1.running_mean', 'inters_.0.0.weight', 'inters_.0.1.running_mean',
        'cnvs_.0.0.weight', 'cnvs_.0.1.running_mean', 't_heats.0.0.conv.weight',
        'ct_heats.1.1.bias', 't_regrs.1.1.weight', 'r_regrs.0.0.conv.bias'
    ]
    return OrderedDict(('module.' + k, torch.full((2, ), float(i))) for i, k in enumerate(keys))


EXPECTED_BACKBONE = {
    'pre.0.conv.weight': 'backbone.stem.0.conv.weight',
    'pre.0.bn.running_mean': 'backbone.stem.0.bn.running_mean',
    'pre.1.conv1.weight': 'backbone.stem.1.0.conv1.weight',
    'pre.1.skip.0.weight': 'backbone.stem.1.0.downsample.0.weight',
    'pre.1.skip.1.running_mean': 'backbone.stem.1.0.downsample.1.running_mean',
    'kps.0.low1.0.skip.1.bias': 'backbone.hourglass_modules.0.low1.0.downsample.1.bias',
    'kps.1.low2.low2.low2.low2.low2.3.bn2.running_mean':
    'backbone.hourglass_modules.1.low2.low2.low2.low2.low2.3.bn2.running_mean',
    'kps.0.low2.low3.1.skip.0.weight':
    'backbone.hourglass_modules.0.low2.low3.1.downsample.0.weight',
    'cnvs.1.conv.weight': 'backbone.out_convs.1.conv.weight',
    'cnvs.0.bn.running_mean': 'backbone.out_convs.0.bn.running_mean',
    'inters.0.conv2.weight': 'backbone.inters.0.conv2.weight',
    'inters.0.bn1.running_mean': 'backbone.inters.0.bn1.running_mean',
    'inters_.0.0.weight': 'backbone.conv1x1s.0.conv.weight',
    'inters_.0.1.running_mean': 'backbone.conv1x1s.0.bn.running_mean',
    'cnvs_.0.0.weight': 'backbone.remap_convs.0.conv.weight',
    'cnvs_.0.1.running_mean': 'backbone.remap_convs.0.bn.running_mean',
}


EXPECTED_EXDET_HEADS = {
    't_heats.0.0.conv.weight': 'bbox_head.head_module.hm_t.0.0.weight',
    'ct_heats.1.1.bias': 'bbox_head.head_module.hm_c.1.2.bias',
    't_regrs.1.1.weight': 'bbox_head.head_module.reg_t.1.2.weight',
    'r_regrs.0.0.conv.bias': 'bbox_head.head_module.reg_r.0.0.bias',
}


def _load_tool():
    path = osp.join(REPO, 'tools', 'model_converters', 'centernet2mmcenternet.py')
    spec = importlib.util.spec_from_file_location('centernet2mmcenternet', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_extremenet_file_through_the_converter_tool(tmp_path, capsys):
    src = tmp_path / 'ExtremeNet_500000.pkl'
    sd = _tiny_extremenet()
    torch.save(sd, str(src))  # ExtremeNet saves the bare state dict (DataParallel keys)
    values = {k[len('module.'):]: v for k, v in sd.items()}
    tool = _load_tool()

    # default: a ctdet initialisation (backbone only)
    tool.main([str(src), str(tmp_path / 'init.pth')])
    assert 'extremenet hourglass checkpoint -> initialisation for ctdet' in capsys.readouterr().out
    ckpt = torch_load(str(tmp_path / 'init.pth'), map_location='cpu', allow_pickle=False)
    new = ckpt['state_dict']
    counters = {k for k in new if k.endswith('num_batches_tracked')}
    assert set(new) - counters == set(EXPECTED_BACKBONE.values())
    for old, key in EXPECTED_BACKBONE.items():
        assert torch.equal(new[key], values[old]), key
    # every BatchNorm (seen through its running_mean) gets the zero counter of the original loader
    assert counters == {
        k.replace('running_mean', 'num_batches_tracked')
        for k in EXPECTED_BACKBONE.values() if k.endswith('running_mean')
    }
    assert all(new[k].item() == 0 and new[k].dtype == torch.int64 for k in counters)
    assert ckpt['meta']['init_for'] == 'ctdet' and ckpt['meta']['source'] == 'xingyizhou/ExtremeNet'

    # --init-for exdet keeps the renamed ExtremeNet heads
    tool.main([str(src), str(tmp_path / 'exdet.pth'), '--init-for', 'exdet'])
    new = torch_load(str(tmp_path / 'exdet.pth'), map_location='cpu',
                     allow_pickle=False)['state_dict']
    for old, key in EXPECTED_EXDET_HEADS.items():
        assert torch.equal(new[key], values[old]), key


def test_hourglass_converter_errors(tmp_path):
    sd = OrderedDict((k[len('module.'):], v) for k, v in _tiny_extremenet().items())
    bad = OrderedDict(sd)
    bad['pre.2.conv.weight'] = torch.zeros(1)
    with pytest.raises(OfficialCheckpointError, match='unexpected Hourglass key pre.2'):
        convert_init_state_dict(bad, 'ctdet')
    with pytest.raises(OfficialCheckpointError, match='unknown task'):
        convert_init_state_dict(sd, 'ddd')
    with pytest.raises(OfficialCheckpointError, match='not a Hourglass-104 checkpoint'):
        convert_init_state_dict({'conv1.weight': torch.zeros(1)}, 'ctdet')
    dla = tmp_path / 'dla.pth'
    torch.save({'epoch': 1, 'state_dict': {'base.base_layer.0.weight': torch.zeros(1)}}, str(dla))
    with pytest.raises(OfficialCheckpointError, match='only Hourglass-104'):
        convert_checkpoint(str(dla), str(tmp_path / 'out.pth'), init_for='ctdet')
