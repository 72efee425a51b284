# Copyright (c) mmcenternet contributors. All rights reserved.
"""bfloat16 inference: body in bf16, heads and decoding in fp32, undone by 'fp32'."""
import os.path as osp

import pytest
import torch
from golden import REPO
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmcenternet.models.utils import inference_precision_of, set_inference_precision


@pytest.fixture(scope='module')
def model():
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py'))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


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


def test_bad_precision_is_refused(model):
    with pytest.raises(ValueError, match='precision must be one of'):
        set_inference_precision(model, 'int4')
    with pytest.raises(ValueError, match='fp16 inference needs a CUDA device'):
        set_inference_precision(model, 'fp16')
    with pytest.raises(ValueError, match='no extract_feat'):
        set_inference_precision(torch.nn.Linear(2, 2), 'bf16')
