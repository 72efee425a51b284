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
from mmcenternet.models.utils.precision import (aggregation_convs, coarse_neck_convs,
                                                float32_modules, stem_convs)


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


def _backbone(config):
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model.backbone)


def test_stem_is_the_convolutions_reading_stride_below_8():
    for config, expected in (
            ('configs/centernet/resdcn18_1x_coco.py', ['conv1'] + [
                f'layer1.{b}.conv{c}' for b in (0, 1) for c in (1, 2)] + [
                'layer2.0.conv1', 'layer2.0.downsample.0']),
            # DLA-34: levels 0 to 2 and the stride-2 convolution into level 3 (level 3's
            # projection reads the max-pooled stride-8 map)
            ('configs/centernet/dla34_1x_coco.py', [
                'base_layer.0', 'level0.0', 'level1.0', 'level2.project.0', 'level2.tree1.conv1',
                'level2.tree1.conv2', 'level2.tree2.conv1', 'level2.tree2.conv2',
                'level2.root.conv', 'level3.tree1.tree1.conv1'])):
        backbone = _backbone(config)
        backbone.train()
        assert _names(backbone, stem_convs(backbone)) == expected
        assert backbone.training  # the probe leaves the mode as it found it


def test_aggregation_is_the_backbones_merging_1x1_convolutions():
    dla = _backbone('configs/centernet/dla34_1x_coco.py')
    names = _names(dla, aggregation_convs(dla))
    # every root and every projection of levels 2 to 5, and no other convolution
    assert len(names) == 12
    assert all(n.endswith(('root.conv', 'project.0')) for n in names)
    assert {n.split('.')[0] for n in names} == {'level2', 'level3', 'level4', 'level5'}
    assert all(m.kernel_size == (1, 1) for m in aggregation_convs(dla))
    resnet = _backbone('configs/centernet/resdcn18_1x_coco.py')
    assert _names(resnet, aggregation_convs(resnet)) == [
        f'layer{i}.0.downsample.0' for i in (2, 3, 4)]


def test_coarse_neck_is_the_necks_layers_at_stride_16_and_more(model):
    model.train()
    names = _names(model, coarse_neck_convs(model))
    assert model.training  # the probe leaves the mode as it found it
    model.eval()
    # ResNet-DCN-18: the deformable layer at stride 32, the transposed convolution to 16 and
    # the deformable layer at 16; not their offset convolutions, nothing at stride 8 or 4
    assert names == [f'neck.deconv_layers.{i}.conv' for i in (0, 1, 2)]
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    dla = MODELS.build(cfg.model).eval()
    names = _names(dla, coarse_neck_convs(dla))
    assert names == ['neck.dla_up.ida_0.proj_1.conv', 'neck.dla_up.ida_0.up_1',
                     'neck.dla_up.ida_0.node_1.conv', 'neck.dla_up.ida_1.proj_1.conv',
                     'neck.dla_up.ida_1.proj_2.conv', 'neck.ida_up.proj_2.conv']


def test_kept_parts_stay_float32(model):
    """Default bf16: the stem, offset, aggregation and coarse-neck convolutions compute in fp32,
    the rest of the body in bf16; ``keep_fp32=()`` runs all of it in bf16; 'fp32' undoes both."""
    kept = float32_modules(model, ('stem', 'offsets'))
    names = _names(model, kept)
    assert 'backbone.conv1' in names and 'backbone.layer2.0.conv2' not in names
    offsets = [n for n in names if n.endswith('conv_offset')]
    assert len(offsets) == 3  # the three deformable up-sampling layers of ResNet-DCN
    fp32 = ['backbone.conv1', 'backbone.layer1.0.conv1', offsets[0],
            'backbone.layer3.0.downsample.0', 'neck.deconv_layers.0.conv']
    bf16 = ['backbone.layer2.0.conv2', 'backbone.layer3.0.conv1', 'neck.deconv_layers.4.conv']
    dtypes = {}
    hooks = [m.register_forward_hook(
        lambda mod, inp, out, n=n: dtypes.__setitem__(n, out.dtype))
        for n, m in model.named_modules() if n in fp32 + bf16]
    x = torch.randn(1, 3, 64, 64)
    try:
        with torch.no_grad():
            set_inference_precision(model, 'bf16')
            model(x, mode='tensor')
            assert dtypes == dict({n: torch.float32 for n in fp32},
                                  **{n: torch.bfloat16 for n in bf16})
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
    heat-map branch stays float32; keep_fp32=('regression', ...) keeps the branches float32;
    without 'heat_maps' the heat-map branch's hidden convolution is bf16, its logits float32."""
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
            set_inference_precision(model, 'bf16',
                                    keep_fp32=('stem', 'offsets', 'regression', 'heat_maps'))
            model(x, mode='tensor')
            assert set(dtypes.values()) == {torch.float32}
            # without 'heat_maps' the heat-map branch's hidden convolution computes in bf16 (its
            # float32 output holds bf16 values); its logit convolution gets float32 maps and
            # computes in float32
            hm = model.bbox_head.head_module.hm[0]
            hidden, logits = hm[0], hm[2]
            seen = []
            hooks += [m.register_forward_hook(lambda mod, inp, out: seen.append((inp[0], out)))
                      for m in (hidden, logits)]
            for keep, reduced in ((('stem', 'offsets', 'heat_maps'), False),
                                  (('stem', 'offsets'), True)):
                set_inference_precision(model, 'bf16', keep_fp32=keep)
                seen.clear()  # (the set-up's probe passes ran the heads too)
                out = model(x, mode='tensor')
                (_, h), (inp, o) = seen
                assert h.dtype == inp.dtype == o.dtype == torch.float32
                assert torch.equal(h, h.bfloat16().float()) == reduced
                assert not torch.equal(o, o.bfloat16().float())
                assert all(o.dtype == torch.float32 for o in out)
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
                       r"from \('stem', 'offsets', 'aggregation', 'coarse_neck', "
                       r"'heat_maps', 'regression'\)"):
        set_inference_precision(model, 'bf16', keep_fp32=('stem', 'heads'))
    with pytest.raises(ValueError, match='no extract_feat'):
        set_inference_precision(torch.nn.Linear(2, 2), 'bf16')
