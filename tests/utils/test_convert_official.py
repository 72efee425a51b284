# Copyright (c) mmcenternet contributors. All rights reserved.
"""Checkpoint conversion and checkpoint/config compatibility errors."""
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from golden import REPO
from mmdet.registry import MODELS
from mmengine.config import Config

from mmcenternet.utils.convert_official import (OfficialCheckpointError, convert_checkpoint,
                                                detect_architecture)
from mmcenternet.utils.config_checks import check_checkpoint_matches
from mmcenternet.utils.errors import UserError


def original_state_dict(config: str, num_classes: int = 80) -> OrderedDict:
    """An original-layout state dict made by inverting the key mapping of a built model."""
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = num_classes
    sd = MODELS.build(cfg.model).state_dict()
    out = OrderedDict()
    for k, v in sd.items():
        if k.startswith('backbone.'):
            k = ('base.' if 'dla' in config else '') + k[len('backbone.'):]
        elif k.startswith('neck.'):
            k = k[len('neck.'):]
        elif k.startswith('bbox_head.head_module.'):
            name, _, rest = k[len('bbox_head.head_module.'):].split('.', 2)
            k = f'{name}.{rest}'
        out[k.replace('conv_offset.', 'conv_offset_mask.')] = v
    return out


def test_dla_checkpoint_with_prefix_fc_and_optimizer(tmp_path):
    sd = original_state_dict('configs/centernet/dla34_1x_coco.py')
    sd['base.fc.weight'] = torch.zeros(1000, 512, 1, 1)
    sd['base.fc.bias'] = torch.zeros(1000)
    opt = dict(state={}, param_groups=[dict(lr=5e-4, betas=(0.9, 0.999), params=[0, 1])])
    src = str(tmp_path / 'model_last.pth')
    torch.save({'epoch': 230, 'state_dict': {'module.' + k: v for k, v in sd.items()},
                'optimizer': opt}, src)
    dst = str(tmp_path / 'converted.pth')
    proc = subprocess.run([sys.executable, 'tools/model_converters/centernet2mmcenternet.py',
                           src, dst], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'dla34 ctdet with 80 classes' in proc.stdout
    ckpt = torch.load(dst, weights_only=True)  # loadable by the weights-only reader
    assert not any('fc.' in k for k in ckpt['state_dict'])
    assert ckpt['meta']['epoch'] == 230
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    check_checkpoint_matches(cfg, dst)  # no error


def test_resdcn_dcn_bias_is_folded_into_bn(tmp_path):
    sd = original_state_dict('configs/centernet/resdcn18_1x_coco.py')
    # the original's DCN has a bias that mmdet's CTResNetNeck lacks
    sd['deconv_layers.0.bias'] = torch.full((256, ), 0.5)
    keys = list(sd)
    renamed = OrderedDict()
    for k in keys:  # CTResNetNeck ConvModule names -> original Sequential indices
        new = k
        for j, (conv_i, bn_i) in enumerate([(0, 1), (3, 4), (6, 7), (9, 10), (12, 13), (15, 16)]):
            new = new.replace(f'deconv_layers.{j}.conv.', f'deconv_layers.{conv_i}.')
            new = new.replace(f'deconv_layers.{j}.bn.', f'deconv_layers.{bn_i}.')
        renamed[new] = sd[k]
    info = detect_architecture(renamed)
    assert (info['arch'], info['depth'], info['task']) == ('resdcn', 18, 'ctdet')
    src, dst = str(tmp_path / 'r18.pth'), str(tmp_path / 'r18_mm.pth')
    torch.save({'epoch': 140, 'state_dict': renamed}, src)
    convert_checkpoint(src, dst)
    out = torch.load(dst, weights_only=True)['state_dict']
    before = renamed['deconv_layers.1.running_mean']
    assert torch.allclose(out['neck.deconv_layers.0.bn.running_mean'], before - 0.5)
    assert 'neck.deconv_layers.0.conv.bias' not in out


def test_bad_checkpoints(tmp_path):
    truncated = tmp_path / 'truncated.pth'
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'conv1.weight': torch.zeros(3)}}, good)
    truncated.write_bytes(good.read_bytes()[:40])
    unknown = tmp_path / 'unknown.pth'
    torch.save({'state_dict': {'foo.weight': torch.zeros(1)}}, unknown)
    for path, message in ((truncated, 'truncated, corrupt'), (unknown, 'unrecognised'),
                          (tmp_path / 'none.pth', 'not found')):
        proc = subprocess.run([sys.executable, 'tools/model_converters/centernet2mmcenternet.py',
                               str(path), str(tmp_path / 'out.pth')], cwd=REPO,
                              capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert 'Traceback' not in proc.stderr
    with pytest.raises(OfficialCheckpointError, match='dlav0'):
        detect_architecture({'base.base_layer.0.weight': torch.zeros(1)})


def test_checkpoint_config_mismatches(tmp_path):
    cfg_dla = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg_r18 = Config.fromfile(osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py'))
    src = str(tmp_path / 'orig.pth')
    torch.save({'state_dict': original_state_dict('configs/centernet/dla34_1x_coco.py', 20)},
               src)
    dst = str(tmp_path / 'voc.pth')
    convert_checkpoint(src, dst)
    with pytest.raises(UserError, match='predicts 20 classes, the config 80'):
        check_checkpoint_matches(cfg_dla, dst)
    with pytest.raises(UserError, match='a dla34 ctdet checkpoint.*does not match config'):
        check_checkpoint_matches(cfg_r18, dst)
    with pytest.raises(UserError, match='original CenterNet checkpoint; convert it first'):
        check_checkpoint_matches(cfg_dla, src)


def test_class_specific_size_checkpoint_converts_and_loads(tmp_path):
    """An original ``--cat_spec_wh`` checkpoint (2 x classes size channels): converted, refused
    by the plain config with the setting to use, loaded strictly with ``cat_spec_wh=True``."""
    from mmengine.runner import load_checkpoint
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = 20
    sd = original_state_dict('configs/centernet/dla34_1x_coco.py', 20)
    for key in [k for k in sd if k.startswith('wh.2.')]:  # the size branch's output layer
        sd[key] = torch.randn((40, ) + tuple(sd[key].shape[1:]))
    src, dst = str(tmp_path / 'orig.pth'), str(tmp_path / 'cat_spec.pth')
    torch.save({'state_dict': sd}, src)
    info = convert_checkpoint(src, dst)
    assert info['heads']['wh'] == 40 and info['num_classes'] == 20
    with pytest.raises(UserError, match=r'class-specific sizes \(40 size channels, the '
                       r"original's --cat_spec_wh\); set model.bbox_head.cat_spec_wh=True"):
        check_checkpoint_matches(cfg, dst)
    cfg.model.bbox_head.cat_spec_wh = True
    check_checkpoint_matches(cfg, dst)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    assert model.bbox_head.head_module.heads['wh'] == 40


def test_original_pascal_checkpoint_fits_the_pascal_config(tmp_path):
    """An original ctdet_pascal_dla (20 classes) converts and matches its config."""
    src, dst = str(tmp_path / 'orig.pth'), str(tmp_path / 'pascal.pth')
    torch.save({'state_dict': original_state_dict('configs/centernet/dla34_1x_coco.py', 20)},
               src)
    info = convert_checkpoint(src, dst)
    assert info['num_classes'] == 20
    for res in (384, 512):
        check_checkpoint_matches(
            Config.fromfile(osp.join(REPO, f'configs/centernet_pascal/dla34_{res}_voc.py')), dst)
