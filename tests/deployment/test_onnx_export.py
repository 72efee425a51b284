# Copyright (c) mmcenternet contributors. All rights reserved.
"""ONNX export with standard operators only and the onnxruntime backend.

* the standard ``DeformConv`` against mmcv's op (offset / mask layout, groups, stride);
* every golden network (golden section 9) exported with free input sizes: only standard
  operators, ``onnx.checker`` (full), onnxruntime's raw maps equal to the original's;
* the decoder graph (``--with-decoder``) gives the PyTorch decoders' detections;
* ``tools/test.py --backend onnxruntime`` reproduces the original's detections on the e2e images
  (golden section 11), as does the dependency-free example of docs/deployment.md;
* refused inputs: a padding-rule breaking ``--shape``, an unexportable module, an ONNX file of
  another config, a decoded or fixed-size file, the deploy packages missing.
"""
import json
import os
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from golden import REPO, golden_path, load_json, load_npz, match_rows, write_original_checkpoint
from mmengine.config import Config

from mmcenternet.utils.convert_official import convert_checkpoint
from mmcenternet.utils.setup_run import UserError

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_model, export_onnx  # noqa: E402
from mmcenternet.deployment.exporter import build_model, make_decoder  # noqa: E402
from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model  # noqa: E402

NETS = {
    'dla_34_ctdet': 'configs/centernet/dla34_1x_coco.py',
    'resdcn_18_ctdet': 'configs/centernet/resdcn18_1x_coco.py',
    'resdcn_101_ctdet': 'configs/centernet/resdcn101_1x_coco.py',
    'hourglass_ctdet': 'configs/centernet/hourglass104_coco.py',
    'dla_34_multi_pose': 'configs/centernet_pose/dla34_1x_coco.py',
    'dla_34_exdet': 'configs/centernet_exdet/dla34_coco.py',
}
DEFORM_CONVS = {'dla_34_ctdet': 16, 'resdcn_18_ctdet': 3, 'resdcn_101_ctdet': 3,
                'hourglass_ctdet': 0, 'dla_34_multi_pose': 16, 'dla_34_exdet': 16}
STANDARD = ('', 'ai.onnx')
CPU = ['CPUExecutionProvider']


def config_path(stem: str) -> str:
    path = osp.join(REPO, NETS[stem])
    if not osp.isfile(path):
        pytest.skip(f'{NETS[stem]} is not in this checkout')
    return path


@pytest.fixture(scope='module')
def golden(tmp_path_factory):
    """Per network, built once: converted golden checkpoint and its ``--dynamic`` export."""
    folder = tmp_path_factory.mktemp('onnx')
    cache = {}

    def get(stem: str) -> dict:
        if stem not in cache:
            z = load_npz('nets', f'{stem}.npz')
            src, ckpt = str(folder / f'{stem}_orig.pth'), str(folder / f'{stem}.pth')
            write_original_checkpoint(stem, src, seed=int(z['weight_seed']))
            convert_checkpoint(src, ckpt)
            out = str(folder / f'{stem}.onnx')
            res = export_onnx(config_path(stem), ckpt, out, shape=z['input'].shape[2:],
                              dynamic=True)
            cache[stem] = dict(z=z, ckpt=ckpt, onnx=out, result=res)
        return cache[stem]

    return get


def open_model(path_or_proto):
    data = path_or_proto if isinstance(path_or_proto, str) else \
        path_or_proto.SerializeToString()
    return ort.InferenceSession(data, providers=CPU)


# ------------------------------------------------------------------------ deformable conv
@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning')
@pytest.mark.parametrize('modulated,stride,deform_groups,groups,bias',
                         [(True, 1, 1, 1, True), (True, 2, 2, 2, False), (False, 1, 2, 1, False)])
def test_deform_conv_exports_as_standard_deformconv(modulated, stride, deform_groups, groups,
                                                    bias):
    from mmcv.ops import DeformConv2dPack, ModulatedDeformConv2dPack

    from mmcenternet.deployment.deform_conv import ExportableDeformConv
    torch.manual_seed(0)
    cls = ModulatedDeformConv2dPack if modulated else DeformConv2dPack
    layer = cls(16, 24, 3, stride=stride, padding=1, groups=groups,
                deform_groups=deform_groups, bias=bias).eval()
    # offsets of several pixels in both directions, so that a (dx, dy) swap would show
    torch.nn.init.normal_(layer.conv_offset.weight, std=0.3)
    torch.nn.init.normal_(layer.conv_offset.bias, std=2.0)
    x = torch.randn(2, 16, 20, 28)
    with torch.no_grad():
        ref = layer(x)
        swapped = ExportableDeformConv(layer)
        assert torch.allclose(swapped(x), ref, atol=1e-5)
    import io
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(swapped, (x, ), buf, dynamo=False, opset_version=19,
                          input_names=['x'], output_names=['y'],
                          dynamic_axes={'x': {0: 'n', 2: 'h', 3: 'w'}})
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    nodes = [n for n in proto.graph.node if n.op_type == 'DeformConv']
    assert len(nodes) == 1 and all(n.domain in STANDARD for n in proto.graph.node)
    assert len(nodes[0].input) == (5 if modulated else 4)
    sess = open_model(proto)
    for shape in [(2, 16, 20, 28), (1, 16, 9, 13)]:
        xi = torch.randn(*shape)
        with torch.no_grad():
            want = layer(xi).numpy()
        got = sess.run(None, {'x': xi.numpy()})[0]
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


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


def test_checker_and_standard_domain_are_enforced():
    """What the exporter runs on every file: onnx.checker (full) and the domain check."""
    from onnx import TensorProto, helper

    from mmcenternet.deployment.exporter import check_onnx_model

    def model(node, opset=19):
        graph = helper.make_graph([node], 'g', [
            helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 2])
        ], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 2])])
        return helper.make_model(graph, opset_imports=[
            helper.make_opsetid('', opset), helper.make_opsetid('mmcv', 1)])

    check_onnx_model(model(helper.make_node('Relu', ['x'], ['y'])))
    with pytest.raises(UserError, match='mmcv::MMCVModulatedDeformConv2d'):
        check_onnx_model(model(helper.make_node('MMCVModulatedDeformConv2d', ['x'], ['y'],
                                                domain='mmcv')))
    with pytest.raises(UserError, match='onnx.checker'):
        check_onnx_model(model(helper.make_node('Relu', ['x', 'x'], ['y'])))


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
    proc = _run('tools/deployment/export_onnx.py', NETS['dla_34_exdet'], g['ckpt'], out,
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


# --------------------------------------------------------------------------- end to end
def _e2e_options(ann_file=None):
    e2e = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    ann = ann_file or f'{e2e}/annotations_e2e.json'
    return ['--cfg-options', f'test_dataloader.dataset.data_root={e2e}/',
            f'test_dataloader.dataset.ann_file={ann}', 'test_dataloader.dataset.data_prefix.img=',
            f'test_evaluator.ann_file={ann}', 'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True)


def _match(ref: np.ndarray, pred: np.ndarray) -> int:
    """Rows ``[class, x1, y1, x2, y2, score, ...]`` matched by the README section 11 rule."""
    coords = [i for i in range(1, ref.shape[1]) if i != 5]
    return match_rows(ref, pred, coords, 5, 0)


@pytest.mark.slow
@pytest.mark.golden
def test_tools_test_onnxruntime_backend_ctdet(golden, tmp_path):
    g = golden('dla_34_ctdet')
    out = str(tmp_path / 'preds.pkl')
    proc = _run('tools/test.py', NETS['dla_34_ctdet'], '--backend', 'onnxruntime', '--onnx',
                g['onnx'], '--out', out, '--work-dir', str(tmp_path), *_e2e_options())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Average Precision' in proc.stdout + proc.stderr
    cat_ids = [c['id'] for c in load_json('e2e', 'annotations_e2e.json')['categories']]
    ref = load_npz('e2e', 'results_dla_34_ctdet_noaug.npz')
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 2
    for p in preds:
        inst = p['pred_instances']
        rows = np.concatenate([np.array([cat_ids[int(c)] for c in inst['labels']])[:, None],
                               inst['bboxes'].numpy(), inst['scores'].numpy()[:, None]], 1)
        r = ref[f'img{p["img_id"]}']
        assert len(rows) == len(r) == 100
        assert _match(r, rows) >= 0.99 * len(r)
    # the image demo's path: mmdet's inference_detector on the same model, an in-memory image
    import cv2
    from mmdet.apis import inference_detector

    from mmcenternet.deployment.onnxruntime_model import init_onnxruntime_detector
    model = init_onnxruntime_detector(osp.join(REPO, NETS['dla_34_ctdet']), g['onnx'])
    assert model.dataset_meta['classes'][0] == 'person'
    res = inference_detector(model, cv2.imread(golden_path('e2e', '000000000785.jpg')))
    same = [p for p in preds if p['img_id'] == 785][0]['pred_instances']
    np.testing.assert_array_equal(res.pred_instances.labels.numpy(), same['labels'].numpy())
    np.testing.assert_allclose(res.pred_instances.bboxes.numpy(), same['bboxes'].numpy(),
                               atol=1e-4)


@pytest.mark.slow
@pytest.mark.golden
def test_tools_test_onnxruntime_backend_pose_flip(golden, tmp_path):
    """Pose with the flip test: the mirrored input runs through onnxruntime too."""
    g = golden('dla_34_multi_pose')
    ann = load_json('e2e', 'annotations_e2e.json')
    ann['categories'] = [dict(id=1, name='person', supercategory='person',
                              keypoints=[f'joint_{i}' for i in range(17)], skeleton=[])]
    ann['annotations'] = [a for a in ann['annotations'] if a['category_id'] == 1]
    ann_file = str(tmp_path / 'person_keypoints_e2e.json')
    with open(ann_file, 'w') as f:
        json.dump(ann, f)
    out = str(tmp_path / 'preds.pkl')
    proc = _run('tools/test.py', NETS['dla_34_multi_pose'], '--backend', 'onnxruntime',
                '--onnx', g['onnx'], '--out', out, '--work-dir', str(tmp_path),
                *_e2e_options(ann_file))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ref = load_npz('e2e', 'results_dla_34_multi_pose_flip.npz')
    with open(out, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == 2
    for s in samples:
        p = s['pred_instances']
        n = len(p['bbox_scores'])
        rows = np.concatenate([np.ones((n, 1)), p['bboxes'], p['bbox_scores'][:, None],
                               p['keypoints'].reshape(n, -1)], axis=1)
        r = ref[f'img{int(s["img_id"])}']
        assert len(rows) == len(r)
        assert _match(r, rows) >= 0.99 * len(r)

    # the multi-scale test wraps the onnxruntime model too; one scale is the flip test
    out_tta = str(tmp_path / 'preds_tta.pkl')
    proc = _run('tools/test.py', NETS['dla_34_multi_pose'], '--backend', 'onnxruntime',
                '--onnx', g['onnx'], '--out', out_tta, '--work-dir', str(tmp_path), '--tta',
                '--tta-scales', '1', *_e2e_options(ann_file))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out_tta, 'rb') as f:
        tta = {int(s['img_id']): s['pred_instances'] for s in pickle.load(f)}
    for s in samples:
        for key in ('keypoints', 'bboxes', 'bbox_scores'):
            np.testing.assert_array_equal(tta[int(s['img_id'])][key], s['pred_instances'][key])

    # the image demo draws persons from the same ONNX file
    e2e_dir = osp.dirname(golden_path('e2e', 'annotations_e2e.json'))
    image = [i['file_name'] for i in ann['images']][0]
    proc = _run('tools/misc/image_demo.py', osp.join(e2e_dir, image), NETS['dla_34_multi_pose'],
                '--onnx', g['onnx'], '--out-dir', str(tmp_path / 'drawn'), '--score-thr', '0')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f'{image}: 100 person(s) >= 0' in proc.stdout
    assert os.listdir(tmp_path / 'drawn') == [osp.splitext(image)[0] + '.png']


DOC = osp.join(REPO, 'docs', 'deployment.md')


def _doc_example() -> str:
    """The dependency-free example of docs/deployment.md (the block after its marker)."""
    with open(DOC) as f:
        text = f.read()
    found = re.search(r'<!-- example: centernet_onnx_demo.py -->\s*```python\n(.*?)```', text,
                      re.S)
    assert found, 'docs/deployment.md lost its marked example'
    return found.group(1)


@pytest.mark.golden
def test_docs_example_runs_without_mmcenternet(golden, tmp_path):
    import cv2
    g = golden('dla_34_ctdet')
    script = tmp_path / 'centernet_onnx_demo.py'
    script.write_text(_doc_example())
    img = str(tmp_path / 'img.npy')
    np.save(img, cv2.imread(golden_path('e2e', '000000000785.jpg')))
    # run as a user without mmcenternet, torch or OpenCV would: importing them fails
    blocked = ('torch', 'mmcenternet', 'mmcv', 'mmdet', 'mmengine', 'mmpose', 'cv2', 'PIL')
    runner = ('import sys\n'
              f'for m in {blocked!r}: sys.modules[m] = None\n'
              f'sys.argv = ["centernet_onnx_demo.py", {g["onnx"]!r}, {img!r}, '
              '"--score-thr", "0"]\n'
              f'exec(compile(open({str(script)!r}).read(), "demo", "exec"), '
              '{"__name__": "__main__"})\n')
    proc = subprocess.run([sys.executable, '-c', runner], capture_output=True, text=True,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = np.array([[float(v) for v in line.split()] for line in proc.stdout.splitlines()])
    assert rows.shape == (100, 6)
    cat_ids = [c['id'] for c in load_json('e2e', 'annotations_e2e.json')['categories']]
    rows = np.concatenate([np.array([cat_ids[int(c)] for c in rows[:, 0]])[:, None],
                           rows[:, 2:6], rows[:, 1:2]], 1)
    ref = load_npz('e2e', 'results_dla_34_ctdet_noaug.npz')['img785']
    assert _match(ref, rows) >= 0.99 * len(ref)


# ------------------------------------------------------------------------- refused inputs
def test_shape_breaking_the_padding_rule_is_refused(tmp_path):
    sys.path.insert(0, osp.join(REPO, 'tools', 'deployment'))
    try:
        import export_onnx as tool
    finally:
        sys.path.pop(0)
    out = str(tmp_path / 'x.onnx')
    with pytest.raises(UserError, match=r'500x512 .*padding rule.*multiples of 32'):
        tool.main([NETS['dla_34_ctdet'], 'unused.pth', out, '--shape', '500', '512'])
    with pytest.raises(UserError, match=r'256x320 .*multiples of 128'):
        tool.main([NETS['hourglass_ctdet'], 'unused.pth', out, '--shape', '256', '320'])
    assert not osp.exists(out)
    # the command line prints the rule and exits with 2
    proc = _run('tools/deployment/export_onnx.py', NETS['dla_34_ctdet'], 'unused.pth', out,
                '--shape', '500', '512')
    assert proc.returncode == 2 and 'padding rule' in proc.stderr


class _CustomOpLayer(torch.nn.Module):
    """A deformable convolution fed with external offsets: mmcv's op, no standard equivalent
    in this form (it exports as mmcv's custom operator)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        from mmcv.ops import ModulatedDeformConv2d
        self.conv = ModulatedDeformConv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        n, _, h, w = x.shape
        offset = x.new_zeros(n, 18, h, w)
        mask = x.new_ones(n, 9, h, w)
        return self.conv(x, offset, mask)


class _FailingLayer(torch.nn.Module):

    def forward(self, x):
        raise RuntimeError('this layer cannot run here')


def test_unexportable_module_is_named():
    cfg = Config.fromfile(osp.join(REPO, NETS['resdcn_18_ctdet']))
    model = build_model(cfg, None)
    model.neck.deconv_layers[1] = _CustomOpLayer(256)  # after the first DCN (256 channels)
    with pytest.raises(UserError, match=r'neck\.deconv_layers\.1.*mmcv::'):
        export_model(model, None, shape=(64, 64))
    model.neck.deconv_layers[1] = _FailingLayer()
    with pytest.raises(UserError, match=r'neck\.deconv_layers\.1.*cannot run here'):
        export_model(model, None, shape=(64, 64))
    with pytest.raises(UserError, match='opset'):
        export_model(model, None, shape=(64, 64), opset=17)


@pytest.mark.golden
def test_onnx_file_of_another_model_is_refused(golden, tmp_path):
    dla = Config.fromfile(osp.join(REPO, NETS['dla_34_ctdet']))
    pose = Config.fromfile(osp.join(REPO, NETS['dla_34_multi_pose']))
    from mmengine.registry import DefaultScope
    # same outputs (hm 80, wh, reg), another architecture: refused by the signature
    with pytest.raises(UserError, match=r'does not match .*exported from resdcn18_1x_coco\.py'):
        build_onnxruntime_model(golden('resdcn_18_ctdet')['onnx'], dla.model,
                                config_name=dla.filename)
    # a pose file for a detection config: the outputs differ
    with pytest.raises(UserError, match=r'does not match .*outputs are \[.hm., .wh., .hps.'):
        build_onnxruntime_model(golden('dla_34_multi_pose')['onnx'], dla.model)
    # a detection file for the pose config
    with DefaultScope.overwrite_default_scope('mmpose'), \
            pytest.raises(UserError, match=r'does not match .*outputs'):
        build_onnxruntime_model(golden('dla_34_ctdet')['onnx'], pose.model)
    # a file with the decoder, and a fixed-size file fed another size (ResNet-DCN-18: quick)
    r18 = Config.fromfile(osp.join(REPO, NETS['resdcn_18_ctdet']))
    model = build_model(r18, golden('resdcn_18_ctdet')['ckpt'])
    decoded = str(tmp_path / 'decoded.onnx')
    export_model(model, decoded, shape=(64, 64), with_decoder=True)
    with pytest.raises(UserError, match='--with-decoder'):
        build_onnxruntime_model(decoded, r18.model)
    fixed = str(tmp_path / 'fixed.onnx')
    export_model(model, fixed, shape=(64, 96))
    net = build_onnxruntime_model(fixed, r18.model)
    net.backbone(torch.zeros(2, 3, 64, 96))  # fixed batch 1: images run one by one
    with pytest.raises(UserError, match=r'exported for 64x96 inputs.*--dynamic'):
        net.backbone(torch.zeros(1, 3, 64, 128))
    # through the command line: one line, exit code 2
    proc = _run('tools/test.py', NETS['dla_34_ctdet'], '--onnx',
                golden('resdcn_18_ctdet')['onnx'], '--work-dir', str(tmp_path), *_e2e_options())
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'error:' in proc.stderr and 'does not match' in proc.stderr


def test_missing_deploy_packages_are_named(monkeypatch, tmp_path):
    from mmcenternet.deployment.utils import require
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(UserError, match=r'`onnxruntime`.*pip install'):
        require('onnxruntime')
    monkeypatch.setitem(sys.modules, 'onnx', None)
    with pytest.raises(UserError, match=r'`onnx`.*\[deploy\]'):
        export_onnx(osp.join(REPO, NETS['dla_34_ctdet']), None, str(tmp_path / 'x.onnx'))
