# Copyright (c) mmcenternet contributors. All rights reserved.
"""The standard ``DeformConv`` export of the deformable convolutions against mmcv's op (offset
/ mask layout, groups, stride)."""

import numpy as np
import pytest
import torch


onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from onnx_common import STANDARD, open_model  # noqa: E402


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
