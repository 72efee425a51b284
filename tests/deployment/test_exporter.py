# Copyright (c) mmcenternet contributors. All rights reserved.
"""The exporter's refusals and checks: ``onnx.checker`` and the standard domain, a
padding-rule breaking ``--shape``, an unexportable module named, the deploy packages missing."""
import os.path as osp
import sys

import pytest
import torch
from golden import REPO
from mmengine.config import Config

from mmcenternet.utils.errors import UserError

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_model, export_onnx  # noqa: E402
from mmcenternet.deployment.exporter import build_model  # noqa: E402
from onnx_common import NETS, run  # noqa: E402


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
    proc = run('tools/deployment/export_onnx.py', NETS['dla_34_ctdet'], 'unused.pth', out,
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


def test_missing_deploy_packages_are_named(monkeypatch, tmp_path):
    from mmcenternet.deployment.utils import require
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(UserError, match=r'`onnxruntime`.*pip install'):
        require('onnxruntime')
    monkeypatch.setitem(sys.modules, 'onnx', None)
    with pytest.raises(UserError, match=r'`onnx`.*\[deploy\]'):
        export_onnx(osp.join(REPO, NETS['dla_34_ctdet']), None, str(tmp_path / 'x.onnx'))
