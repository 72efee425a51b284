# Copyright (c) mmcenternet contributors. All rights reserved.
"""int8 quantisation: the body quantised, heads and deformable convolutions float32, the
metadata kept, bad files refused."""
import os.path as osp

import numpy as np
import pytest
import torch
from golden import REPO
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmcenternet.utils.errors import UserError

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_model  # noqa: E402
from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model  # noqa: E402
from mmcenternet.deployment.quantize import (deform_nodes, head_nodes,  # noqa: E402
                                             quantize_onnx, stem_nodes, upsampling_nodes)

CONFIG = 'configs/centernet/resdcn18_1x_coco.py'


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    folder = tmp_path_factory.mktemp('quantize')
    fp32 = str(folder / 'model.onnx')
    export_model(model, fp32, shape=(64, 64), dynamic=True, what=CONFIG)
    rng = np.random.RandomState(0)
    arrays = [rng.randn(1, 3, 64, 64).astype(np.float32) for _ in range(4)]
    int8 = str(folder / 'model_int8.onnx')
    info = quantize_onnx(fp32, int8, arrays)
    return dict(cfg=cfg, fp32=fp32, int8=int8, info=info, folder=folder, arrays=arrays)


def _weight_is_quantized(graph, node) -> bool:
    producers = {o: n for n in graph.node for o in n.output}
    src = producers.get(node.input[1])
    return src is not None and src.op_type == 'DequantizeLinear'


def test_body_int8_heads_deform_stem_and_upsampling_fp32(exported):
    src, out = onnx.load(exported['fp32']), onnx.load(exported['int8'])
    heads, deform = head_nodes(src), deform_nodes(src)
    stem, ups = stem_nodes(src), upsampling_nodes(src)
    # ResNet: conv1 and layer1 (stride 4) lead; layer2 is the first stride-8 stage
    assert sorted(stem) == ['/model/backbone/conv1/Conv'] + [
        f'/model/backbone/layer1/layer1.{b}/conv{c}/Conv' for b in (0, 1) for c in (1, 2)]
    assert len(ups) == 3
    head_convs = [n.name for n in src.graph.node if n.op_type == 'Conv' and n.name in heads]
    assert len(head_convs) == 6  # hm, wh, reg: 3x3 and 1x1 each
    assert sum(n.op_type == 'DeformConv' for n in src.graph.node) == 3
    assert sum(n.op_type == 'Conv' and n.name in deform for n in src.graph.node) == 3  # offsets
    by_name = {n.name: n for n in out.graph.node}
    for name in head_convs + sorted(stem | ups) + [
            n for n in deform if by_name.get(n) is not None and by_name[n].op_type == 'Conv']:
        assert not _weight_is_quantized(out.graph, by_name[name]), name
    kept = heads | deform | stem | ups
    body = [n for n in out.graph.node if n.op_type in ('Conv', 'ConvTranspose')
            and n.name not in kept]
    assert body and all(_weight_is_quantized(out.graph, n) for n in body)
    assert exported['info']['quantized'] == len(body)
    meta = {p.key: p.value for p in out.metadata_props}
    assert meta['mmcenternet.signature'] == {p.key: p.value for p in
                                             src.metadata_props}['mmcenternet.signature']
    assert meta['mmcenternet.precision'].startswith('int8 (QDQ, per-channel weights')


def test_relu_of_an_int8_conv_is_folded_into_its_output(exported):
    src, out = onnx.load(exported['fp32']), onnx.load(exported['int8'])
    kept = head_nodes(src) | deform_nodes(src) | stem_nodes(src) | upsampling_nodes(src)
    producers = {o: n for n in src.graph.node for o in n.output}
    left = {n.name for n in out.graph.node}
    folded, stayed = [], []
    for node in src.graph.node:
        prod = producers.get(node.input[0]) if node.op_type == 'Relu' else None
        if prod is not None and prod.op_type == 'Conv':
            (stayed if prod.name in kept else folded).append(node.name)
    # ResNet-18: layers 2-4 are int8 (one ReLU right after a conv per block; the other
    # follows the residual Add), the stem's stay float32
    assert len(folded) == 6 and stayed
    assert not [name for name in folded if name in left]
    assert all(name in left for name in stayed)
    consumers = {}
    for node in out.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node.op_type)
    for node in out.graph.node:  # one quantisation per int8 conv output, none before a ReLU
        if node.op_type == 'Conv' and _weight_is_quantized(out.graph, node):
            assert consumers[node.output[0]] == ['QuantizeLinear'], node.name


def test_int8_maps_follow_fp32(exported):
    fp32 = ort.InferenceSession(exported['fp32'], providers=['CPUExecutionProvider'])
    int8 = ort.InferenceSession(exported['int8'], providers=['CPUExecutionProvider'])
    x = exported['arrays'][0]
    a, b = fp32.run(None, {'input': x}), int8.run(None, {'input': x})
    for ref, got in zip(a, b):
        corr = np.corrcoef(ref.ravel(), got.ravel())[0, 1]
        assert corr > 0.9


def test_quantized_file_runs_in_the_backend_and_is_checked(exported):
    net = build_onnxruntime_model(exported['int8'], exported['cfg'].model)
    outs = net.backbone(torch.from_numpy(exported['arrays'][1]))
    assert len(outs) == 3 and outs[0].shape == (1, 80, 16, 16)
    other = Config.fromfile(osp.join(REPO, 'configs/centernet/dla34_1x_coco.py'))
    with pytest.raises(UserError, match='does not match'):
        build_onnxruntime_model(exported['int8'], other.model)


def test_bad_files_are_refused(exported):
    folder = exported['folder']
    bare = onnx.load(exported['fp32'])
    del bare.metadata_props[:]
    bare_file = str(folder / 'bare.onnx')
    onnx.save(bare, bare_file)
    with pytest.raises(UserError, match='no mmcenternet metadata'):
        quantize_onnx(bare_file, str(folder / 'x.onnx'), exported['arrays'])
    with pytest.raises(UserError, match=r'bare\.onnx has no mmcenternet metadata'):
        build_onnxruntime_model(bare_file, exported['cfg'].model)
    with pytest.raises(UserError, match='already quantised'):
        quantize_onnx(exported['int8'], str(folder / 'y.onnx'), exported['arrays'])
    with pytest.raises(UserError, match='no calibration images'):
        quantize_onnx(exported['fp32'], str(folder / 'z.onnx'), [])
