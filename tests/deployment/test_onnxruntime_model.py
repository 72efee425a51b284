# Copyright (c) mmcenternet contributors. All rights reserved.
"""The onnxruntime backend refuses an ONNX file of another config."""
import os.path as osp

import pytest
import torch
from golden import REPO
from mmengine.config import Config

from mmcenternet.utils.errors import UserError

onnx = pytest.importorskip('onnx', reason="the deploy extra is missing: pip install -e '.[deploy]'")
ort = pytest.importorskip('onnxruntime',
                          reason="the deploy extra is missing: pip install -e '.[deploy]'")

from mmcenternet.deployment import export_model  # noqa: E402
from mmcenternet.deployment.exporter import build_model  # noqa: E402
from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model  # noqa: E402
from onnx_common import NETS, e2e_options, golden, run  # noqa: E402,F401 (golden is a fixture)


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
    proc = run('tools/test.py', NETS['dla_34_ctdet'], '--onnx',
               golden('resdcn_18_ctdet')['onnx'], '--work-dir', str(tmp_path), *e2e_options())
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'error:' in proc.stderr and 'does not match' in proc.stderr
