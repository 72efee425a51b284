# Copyright (c) mmcenternet contributors. All rights reserved.
"""Every golden network (golden section 9) exported with free input sizes: only standard
operators, ``onnx.checker`` (full), onnxruntime's raw maps equal to the original's; the decoder
graph (``--with-decoder``) gives the PyTorch decoders' detections."""
import re

import numpy as np
import pytest
import torch
from golden import load_json
from mmengine.config import Config


onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_model  # noqa: E402
from mmcenternet.deployment.exporter import build_model, make_decoder  # noqa: E402
from onnx_common import (  # noqa: E402,F401 (golden is a fixture)
    DEFORM_CONVS, NETS, STANDARD, config_path, golden, open_model, run)


# ------------------------------------------------------------------------ golden networks
@pytest.mark.golden
@pytest.mark.parametrize('stem', list(NETS))
def test_golden_network_through_onnxruntime(stem, golden):
    g = golden(stem)
    z, res = g['z'], g['result']
    # the exporter has run onnx.checker (full) on this proto; it is not read back from disk here
    # (Hourglass-104: 760 MB)
    proto = res.pop('model_proto', None) or onnx.load(g['onnx'])
    assert max(o.version for o in proto.opset_import if o.domain in STANDARD) >= 19
    assert all(n.domain in STANDARD for n in proto.graph.node)
    assert sum(n.op_type == 'DeformConv' for n in proto.graph.node) == DEFORM_CONVS[stem]
    assert len(res['deform_convs']) == DEFORM_CONVS[stem]
    # the input is free in batch, height and width
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ['batch', '', 'height', 'width']
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta['mmcenternet.outputs'] == 'raw'
    assert int(meta['mmcenternet.size_divisor']) == (128 if 'hourglass' in stem else 32)
    del proto
    heads = list(load_json('nets', f'manifest_{stem}.json')['heads'])
    stacks = sorted({k.split('_')[0] for k in z.files if k.startswith('out')})
    assert res['output_names'] == (heads if len(stacks) == 1 else
                                   [f'{h}_{s}' for s in range(len(stacks)) for h in heads])
    outs = open_model(g['onnx']).run(None, {'input': z['input']})
    refs = [z[f'{s}_{h}'] for s in stacks for h in heads]
    assert len(outs) == len(refs)
    for name, out, ref in zip(res['output_names'], outs, refs):
        assert out.shape == ref.shape, name
        np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0, err_msg=name)


# ------------------------------------------------------------------------------ decoders
def _pytorch_detections(model, outs):
    """The PyTorch test path's decoding of raw maps (last stack), as a tuple of tensors."""
    head = model.bbox_head if hasattr(model, 'bbox_head') else model.head
    maps = head.split_stacks(outs)[-1]
    if 'hps' in maps:
        d = head.decode_maps(dict(maps, hm=maps['hm'].sigmoid(), hm_hp=maps['hm_hp'].sigmoid()))
        return d['bboxes'], d['scores'], d['labels'], d['keypoints']
    return head.decode_maps(maps['hm'].sigmoid(), maps['wh'], maps.get('reg'))


@pytest.mark.golden
@pytest.mark.parametrize('stem', ['dla_34_ctdet', 'dla_34_multi_pose'])
def test_decoder_graph_gives_pytorch_detections(stem, golden):
    g = golden(stem)
    model = build_model(Config.fromfile(config_path(stem)), g['ckpt'])
    # 1. same maps in: the export decoder run by PyTorch gives the PyTorch decoder's rows, also
    #    for a map with fewer cells than K (8 x 8), where it pads with rows of score -1
    decoder = make_decoder(model)[0]
    for shape in [(96, 128), (32, 32)]:
        x = torch.randn(1, 3, *shape, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            outs = model(x, data_samples=None, mode='tensor')
            mine, ref = decoder(outs), _pytorch_detections(model, outs)
        n = ref[1].shape[1]
        assert all(m.shape[1] == 100 for m in mine)
        assert torch.all(mine[1][:, n:] == -1)
        positive = ref[1][0] > 0  # rows of score 0 (fewer peaks than K) have no defined order
        for a, b in zip(mine, ref):
            assert torch.equal(a[0, :n][positive], b[0][positive])
    # 2. the exported graph (network + decoder) through onnxruntime, two input sizes
    res = export_model(model, None, shape=(96, 128), dynamic=True, with_decoder=True)
    names = ['bboxes', 'scores', 'labels'] + (['keypoints'] if 'pose' in stem else [])
    assert res['output_names'] == names
    proto = res['model_proto']
    assert all(n.domain in STANDARD for n in proto.graph.node)
    assert {'TopK', 'MaxPool', 'DeformConv'} <= {n.op_type for n in proto.graph.node}
    sess = open_model(proto)
    for shape in [(96, 128), (160, 96)]:
        x = torch.randn(1, 3, *shape, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = _pytorch_detections(model, model(x, data_samples=None, mode='tensor'))
        got = sess.run(None, {'input': x.numpy()})
        assert [a.shape for a in got] == [tuple(b.shape) for b in ref]
        positive = ref[1][0].numpy() > 0
        assert positive.sum() >= 50
        np.testing.assert_array_equal(got[2][0][positive], ref[2][0].numpy()[positive])
        np.testing.assert_allclose(got[1][0][positive], ref[1][0].numpy()[positive], atol=1e-5)
        np.testing.assert_allclose(got[0][0][positive], ref[0][0].numpy()[positive], atol=2e-3)
        if len(got) == 4:
            np.testing.assert_allclose(got[3][0][positive], ref[3][0].numpy()[positive],
                                       atol=2e-3)


@pytest.mark.golden
def test_exdet_decoder_graph_gives_pytorch_detections(golden):
    """DLA-34 exdet + the exdet decoder in one graph (K = 16, 300 rows: quick; the decoder alone
    at the original's K = 100 is tested in test_onnx_exdet_decoder.py)."""
    g = golden('dla_34_exdet')
    model = build_model(Config.fromfile(config_path('dla_34_exdet')), g['ckpt'])
    settings = dict(topk=16, num_dets=300)
    res = export_model(model, None, shape=(64, 96), dynamic=True, with_decoder=True,
                       test_cfg=settings)
    assert res['output_names'] == ['bboxes', 'scores', 'labels', 'extreme_points']
    assert res['metadata']['task'] == 'exdet' and res['metadata']['num_dets'] == '300'
    proto = res['model_proto']
    assert {'TopK', 'MaxPool', 'DeformConv', 'GatherElements'} <= \
        {n.op_type for n in proto.graph.node}
    sess = open_model(proto)
    head = model.bbox_head
    head.test_cfg = dict(head.test_cfg, **settings)
    for shape in [(64, 96), (96, 64)]:
        x = torch.randn(1, 3, *shape, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            maps = head.split_stacks(model(x, data_samples=None, mode='tensor'))[-1]
            ref = head.decode_maps(maps)[0].numpy()  # (300, 14) in map pixels
        bboxes, scores, labels, points = (a[0] for a in sess.run(None, {'input': x.numpy()}))
        assert scores.shape == (300, ) and points.shape == (300, 4, 2)
        np.testing.assert_allclose(scores, ref[:, 4], atol=1e-5)
        # rows of equal score may come in another order: compare the rows of unique scores
        values, counts = np.unique(ref[:, 4], return_counts=True)
        unique = np.isin(ref[:, 4], values[counts == 1])
        assert unique.sum() >= 100
        np.testing.assert_array_equal(labels[unique], ref[unique, 13])
        np.testing.assert_allclose(bboxes[unique], ref[unique, :4] * 4, atol=2e-3)
        np.testing.assert_allclose(points.reshape(300, 8)[unique], ref[unique, 5:13] * 4,
                                   atol=2e-3)


@pytest.mark.golden
def test_export_tool_exdet_with_decoder_and_verify(golden, tmp_path):
    """The command line: exdet with the decoder (small K for speed), checked by --verify."""
    g = golden('dla_34_exdet')
    out = str(tmp_path / 'exdet_decoded.onnx')
    proc = run('tools/deployment/export_onnx.py', NETS['dla_34_exdet'], g['ckpt'], out,
               '--shape', '64', '96', '--with-decoder', '--verify', '--cfg-options',
               'model.test_cfg.topk=16', 'model.test_cfg.num_dets=300')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'output extreme_points: [1, 300, 4, 2]' in proc.stdout
    score_err = float(re.search(r'scores +max \|onnxruntime - PyTorch\| = (\S+)',
                                proc.stdout).group(1))
    matched = int(re.search(r'(\d+) of 300 rows have a PyTorch row', proc.stdout).group(1))
    assert score_err < 1e-5 and matched >= 290, proc.stdout
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert meta['mmcenternet.outputs'] == 'decoded' and meta['mmcenternet.task'] == 'exdet'
