# Copyright (c) mmcenternet contributors. All rights reserved.
"""Converted original networks give the original's raw outputs (golden section 9), with either
deformable-convolution implementation (mmcenternet's fast one and mmcv's op)."""
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO, load_json, load_npz, write_original_checkpoint
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmcenternet.ops import FastModulatedDeformConv2dPack
from mmcenternet.utils.convert_official import convert_checkpoint

NETS = {
    'dla_34_ctdet': 'configs/centernet/dla34_1x_coco.py',
    'resdcn_18_ctdet': 'configs/centernet/resdcn18_1x_coco.py',
    'resdcn_101_ctdet': 'configs/centernet/resdcn101_1x_coco.py',
}


def build_from_config(path: str, dcn_impl: str = None) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(REPO, path))
    cfg.model.backbone.init_cfg = None
    if dcn_impl is not None:
        cfg.model.neck.dcn_cfg.impl = dcn_impl
    return MODELS.build(cfg.model).eval()


@pytest.mark.golden
@pytest.mark.parametrize('dcn_impl', ['fast', 'mmcv'])
@pytest.mark.parametrize('stem', list(NETS))
def test_converted_network_matches_original(stem, dcn_impl, tmp_path):
    z = load_npz('nets', f'{stem}.npz')
    manifest = load_json('nets', f'manifest_{stem}.json')
    src, dst = str(tmp_path / 'orig.pth'), str(tmp_path / 'conv.pth')
    write_original_checkpoint(stem, src, seed=int(z['weight_seed']))
    info = convert_checkpoint(src, dst)
    assert info['task'] == manifest['task']
    model = build_from_config(NETS[stem], dcn_impl)
    dcns = [m for m in model.modules() if isinstance(m, FastModulatedDeformConv2dPack)]
    assert dcns and all(m.impl == dcn_impl for m in dcns)
    # strict: every model weight comes from the converted file and nothing is left over
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    with torch.no_grad():
        outs = model(torch.from_numpy(z['input']), mode='tensor')
    names = list(manifest['heads'])
    assert len(outs) == len(names)
    for name, out in zip(names, outs):
        ref = z[f'out0_{name}']
        assert tuple(out.shape) == ref.shape
        np.testing.assert_allclose(out.numpy(), ref, atol=1e-4, rtol=0, err_msg=name)
