# Copyright (c) mmcenternet contributors. All rights reserved.
"""bfloat16 inference: body and regression branches in bf16, heat maps and decoding in fp32,
undone by 'fp32'."""
import os.path as osp

import pytest
import torch
from golden import REPO
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from precision_common import build_detector

from mmcenternet.models.utils import inference_precision_of, set_inference_precision
from mmcenternet.models.utils.precision import float32_modules, stem_convs


@pytest.fixture(scope='module')
def model():
    return build_detector()


def test_bf16_body_fp32_heads_close_to_fp32(model):
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x, mode='tensor')
        set_inference_precision(model, 'bf16')
        assert inference_precision_of(model) == 'bf16'
        feats = model.extract_feat(x)
        out = model(x, mode='tensor')
        set_inference_precision(model, 'fp32')
        assert inference_precision_of(model) == 'fp32'
        again = model(x, mode='tensor')
    assert all(f.dtype == torch.float32 for f in feats)  # the heads get fp32 features
    assert all(o.dtype == torch.float32 for o in out)
    for r, o in zip(ref, out):
        scale = r.abs().max().clamp(min=1e-6)
        assert ((r - o).abs().max() / scale).item() < 0.1
        assert not torch.equal(r, o)  # the body really ran in bf16
    for r, a in zip(ref, again):
        torch.testing.assert_close(r, a, atol=1e-5, rtol=1e-5)


def _names(model, modules):
    by_id = {id(m): n for n, m in model.named_modules()}
    return [by_id[id(m)] for m in modules]


def test_stem_is_the_backbone_before_stride_8():
    init_default_scope('mmdet')
    for config, expected in (
            ('configs/centernet/resdcn18_1x_coco.py', ['conv1'] + [
                f'layer1.{b}.conv{c}' for b in (0, 1) for c in (1, 2)]),
            ('configs/centernet/dla34_1x_coco.py', None)):
        cfg = Config.fromfile(osp.join(REPO, config))
        cfg.model.backbone.init_cfg = None
        backbone = MODELS.build(cfg.model.backbone)
        backbone.train()
        names = _names(backbone, stem_convs(backbone))
        assert backbone.training  # the probe leaves the mode as it found it
        if expected is not None:
            assert names == expected
        else:  # DLA-34: base layer and levels 0 to 2 (stride 4), nothing of level 3
            assert {n.split('.')[0] for n in names} == {'base_layer', 'level0', 'level1',
                                                        'level2'}
            assert len(names) == 9


def test_stem_and_offsets_stay_float32(model):
    """Default bf16: stem convolutions and offset convolutions compute in fp32, the rest of the
    body in bf16; ``keep_fp32=()`` runs all of it in bf16; 'fp32' undoes both."""
    kept = float32_modules(model, ('stem', 'offsets'))
    names = _names(model, kept)
    assert 'backbone.conv1' in names and 'backbone.layer2.0.conv1' not in names
    offsets = [n for n in names if n.endswith('conv_offset')]
    assert len(offsets) == 3  # the three deformable up-sampling layers of ResNet-DCN
    dtypes = {}
    hooks = [m.register_forward_hook(
        lambda mod, inp, out, n=n: dtypes.__setitem__(n, out.dtype))
        for n, m in model.named_modules() if n in ('backbone.conv1', 'backbone.layer2.0.conv1',
                                                   offsets[0])]
    x = torch.randn(1, 3, 64, 64)
    try:
        with torch.no_grad():
            set_inference_precision(model, 'bf16')
            model(x, mode='tensor')
            assert dtypes == {'backbone.conv1': torch.float32, offsets[0]: torch.float32,
                              'backbone.layer2.0.conv1': torch.bfloat16}
            set_inference_precision(model, 'bf16', keep_fp32=())
            model(x, mode='tensor')
            assert set(dtypes.values()) == {torch.bfloat16}
            set_inference_precision(model, 'fp32')
            model(x, mode='tensor')
            assert set(dtypes.values()) == {torch.float32}
            assert not any('forward' in m.__dict__ for m in model.modules())
    finally:
        for h in hooks:
            h.remove()


def test_regression_branches_reduced_heat_maps_float32(model):
    """Default bf16: the size and offset branches compute in bf16 and hand float32 maps on; the
    heat-map branch stays float32; keep_fp32=('regression', ...) keeps the branches float32."""
    from mmcenternet.models.utils.precision import regression_branches
    branches = regression_branches(model)
    assert _names(model, branches) == ['bbox_head.head_module.wh.0', 'bbox_head.head_module.reg.0']
    first = {n + '.0': n.split('.')[-2] for n in ('bbox_head.head_module.hm.0',
                                                  'bbox_head.head_module.wh.0',
                                                  'bbox_head.head_module.reg.0')}
    dtypes = {}
    hooks = [m.register_forward_hook(
        lambda mod, inp, out, n=n: dtypes.__setitem__(first[n], out.dtype))
        for n, m in model.named_modules() if n in first]
    x = torch.randn(1, 3, 64, 64)
    try:
        with torch.no_grad():
            set_inference_precision(model, 'bf16')
            out = model(x, mode='tensor')
            assert dtypes == {'hm': torch.float32, 'wh': torch.bfloat16, 'reg': torch.bfloat16}
            assert all(o.dtype == torch.float32 for o in out)
            set_inference_precision(model, 'bf16', keep_fp32=('stem', 'offsets', 'regression'))
            model(x, mode='tensor')
            assert set(dtypes.values()) == {torch.float32}
    finally:
        set_inference_precision(model, 'fp32')
        for h in hooks:
            h.remove()
    assert not any('forward' in m.__dict__ for m in model.modules())


def test_dla_upsampling_runs_float32_on_the_cpu():
    """DLA's depthwise transposed convolutions (bilinear up-sampling) have no fast bfloat16 CPU
    kernel: under bf16 they compute in float32, the convolutions around them in bfloat16."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    dla = MODELS.build(cfg.model).eval()
    ups = {n: m for n, m in dla.named_modules() if isinstance(m, torch.nn.ConvTranspose2d)}
    assert ups and all(m.groups == m.in_channels > 1 for m in ups.values())
    dtypes = {}
    watched = dict(ups, level3=dla.backbone.level3.tree1.tree1.conv1)
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: dtypes.__setitem__(n, out.dtype))
             for n, m in watched.items()]
    try:
        with torch.no_grad():
            set_inference_precision(dla, 'bf16', keep_fp32=())
            dla(torch.randn(1, 3, 64, 64), mode='tensor')
    finally:
        for h in hooks:
            h.remove()
    assert dtypes.pop('level3') == torch.bfloat16
    assert set(dtypes) == set(ups) and set(dtypes.values()) == {torch.float32}


def test_bad_precision_is_refused(model):
    with pytest.raises(ValueError, match='precision must be one of'):
        set_inference_precision(model, 'int4')
    with pytest.raises(ValueError, match='fp16 inference needs a CUDA device'):
        set_inference_precision(model, 'fp16')
    with pytest.raises(ValueError, match=r"keep_fp32: unknown part\(s\) \['heads'\]; choose "
                       r"from \('stem', 'offsets', 'regression'\)"):
        set_inference_precision(model, 'bf16', keep_fp32=('stem', 'heads'))
    with pytest.raises(ValueError, match='no extract_feat'):
        set_inference_precision(torch.nn.Linear(2, 2), 'bf16')
