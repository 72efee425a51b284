# Copyright (c) mmcenternet contributors. All rights reserved.
"""Batch norms folded into the convolutions before them, weights cached: the pairs found by data
flow, the folded values, training mode, refreshed weights and the reduced-precision model."""
import pytest
import torch
import torch.nn as nn
from precision_common import build_detector

from mmcenternet.models.utils import set_inference_precision
from mmcenternet.models.utils.folding import (CachedConvForward, FoldedBatchNormForward,
                                              FusedReLUForward, body_fusion_plan,
                                              branch_fusion_plan, conv_bn_pairs)
from mmcenternet.ops import FastModulatedDeformConv2dPack


def _randomise_norms(model: nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)
        if isinstance(getattr(m, 'conv_offset', None), nn.Conv2d):
            m.conv_offset.weight.data.copy_(
                torch.randn(m.conv_offset.weight.shape, generator=gen) * 0.02)


@pytest.fixture(scope='module')
def resdcn():
    model = build_detector()
    _randomise_norms(model)
    return model


def test_pairs_follow_the_data_flow(resdcn):
    names = {id(m): n for n, m in resdcn.named_modules()}
    pairs = {names[id(c)]: names[id(b)]
             for c, b in conv_bn_pairs(resdcn, [resdcn.backbone, resdcn.neck]).items()}
    assert pairs['backbone.conv1'] == 'backbone.bn1'
    assert pairs['backbone.layer2.0.conv2'] == 'backbone.layer2.0.bn2'
    assert pairs['backbone.layer2.0.downsample.0'] == 'backbone.layer2.0.downsample.1'
    # the neck's deformable layers are folded; the batch norms after its transposed
    # convolutions have no convolution to go into
    deform = [c for c in pairs if isinstance(resdcn.get_submodule(c),
                                             FastModulatedDeformConv2dPack)]
    assert len(deform) == 3
    norms = [n for n, m in resdcn.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(pairs) == len(norms) - 3
    assert resdcn.training is False


@pytest.mark.parametrize('layer', ['conv', 'dcn'])
def test_folded_values_training_mode_and_refresh(layer):
    torch.manual_seed(0)
    if layer == 'conv':
        conv = nn.Conv2d(6, 8, 3, padding=1, bias=False)
    else:
        conv = FastModulatedDeformConv2dPack(6, 8, 3, padding=1)
        nn.init.normal_(conv.conv_offset.weight, std=0.1)
    bn = nn.BatchNorm2d(8)
    _randomise_norms(nn.Sequential(conv, bn), seed=1)
    pair = nn.Sequential(conv, bn).eval()
    x = torch.randn(2, 6, 7, 9)

    def unfolded():  # the classes' own forward passes, whatever the instances hold
        return type(bn).forward(bn, type(conv).forward(conv, x))

    with torch.no_grad():
        ref = unfolded()
        conv.forward = CachedConvForward(conv, bn, torch.float32)
        bn.forward = FoldedBatchNormForward(bn)
        torch.testing.assert_close(pair(x), ref, rtol=1e-5, atol=1e-5)
        # changed statistics and weights (as by loading a checkpoint) are folded in on the next
        # call
        for change in (lambda: bn.running_var.mul_(4.0), lambda: bn.running_mean.add_(0.5),
                       lambda: bn.weight.mul_(-1.0), lambda: conv.weight.mul_(0.5)):
            before = unfolded()
            change()
            after = unfolded()
            assert not torch.allclose(before, after)
            torch.testing.assert_close(pair(x), after, rtol=1e-5, atol=1e-5)
    # training mode: batch statistics, the pair runs unfolded
    pair.train()
    with torch.no_grad():
        torch.testing.assert_close(pair(x), unfolded())


def test_reduced_precision_model_runs_no_batch_norm(resdcn, monkeypatch):
    """bf16 with folding: no batch-norm kernel runs, seven ReLUs fewer, the outputs stay as
    close to float32 as without folding, and 'fp32' restores the model."""
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(2))
    calls, relu_calls = [], []
    real, real_relu = torch.nn.functional.batch_norm, torch.nn.functional.relu
    monkeypatch.setattr(torch.nn.functional, 'batch_norm',
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(torch.nn.functional, 'relu',
                        lambda *a, **k: relu_calls.append(1) or real_relu(*a, **k))
    with torch.no_grad():
        ref = resdcn(x, mode='tensor')
        set_inference_precision(resdcn, 'bf16', fold=False)
        calls.clear()  # (the set-up's probes ran batch norms)
        relu_calls.clear()
        unfolded = resdcn(x, mode='tensor')
        assert len(calls) == 26
        relus_unfolded = len(relu_calls)
        set_inference_precision(resdcn, 'bf16')
        calls.clear()
        relu_calls.clear()
        folded = resdcn(x, mode='tensor')
        assert len(calls) == 3  # after the transposed convolutions only
        assert len(relu_calls) == relus_unfolded - 7  # stem, 3 deformable layers, 3 branches
        set_inference_precision(resdcn, 'fp32')
        again = resdcn(x, mode='tensor')
    assert not any('forward' in m.__dict__ for m in resdcn.modules())
    for r, u, f, a in zip(ref, unfolded, folded, again):
        scale = r.abs().max()
        err_u = ((u - r).abs().max() / scale).item()
        err_f = ((f - r).abs().max() / scale).item()
        assert err_f < 0.05 and err_f < 2 * err_u + 1e-3
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-5)


def test_relus_fused_only_where_they_follow_one_convolution(resdcn):
    names = {id(m): n for n, m in resdcn.named_modules()}
    plan = body_fusion_plan(resdcn, [resdcn.backbone, resdcn.neck])
    relus = {names[id(c)]: names[id(r)] for c, r in plan.relus.items()}
    # the stem's ReLU and the ReLUs after the neck's deformable layers (through their folded
    # batch norms); a residual block's ReLU runs twice (after its first convolution and after
    # the sum) and the ReLUs after the transposed convolutions have no foldable convolution
    assert relus == {'backbone.conv1': 'backbone.relu',
                     'neck.deconv_layers.0.conv': 'neck.deconv_layers.0.activate',
                     'neck.deconv_layers.2.conv': 'neck.deconv_layers.2.activate',
                     'neck.deconv_layers.4.conv': 'neck.deconv_layers.4.activate'}
    branch = resdcn.bbox_head.head_module.hm[0]
    assert branch_fusion_plan(branch).relus == {branch[0]: branch[1]}


@pytest.mark.parametrize('layer', ['conv', 'dcn'])
def test_fused_relu_values_and_training_mode(layer):
    torch.manual_seed(0)
    if layer == 'conv':
        conv = nn.Conv2d(6, 8, 3, padding=1)
    else:
        conv = FastModulatedDeformConv2dPack(6, 8, 3, padding=1)
        nn.init.normal_(conv.conv_offset.weight, std=0.1)
    bn, relu = nn.BatchNorm2d(8), nn.ReLU(inplace=True)
    block = nn.Sequential(conv, bn, relu)
    _randomise_norms(block, seed=2)
    block.eval()
    x = torch.randn(2, 6, 7, 9)

    def unfolded():
        return torch.relu(type(bn).forward(bn, type(conv).forward(conv, x)))

    for dtype in (torch.float32, torch.bfloat16):
        conv.forward = CachedConvForward(conv, bn, dtype, relu=True)
        bn.forward = FoldedBatchNormForward(bn)
        relu.forward = FusedReLUForward(relu, bn)
        with torch.no_grad():
            ref = unfolded()
            if dtype is torch.float32:
                out = block(x)
                torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
            else:
                with torch.autocast('cpu', dtype=torch.bfloat16):
                    out = block(x)
                assert out.dtype == torch.bfloat16
                torch.testing.assert_close(out.float(), ref, rtol=0.05, atol=0.05)
            assert (out >= 0).all() and (ref > 0).any() and (ref == 0).any()
    block.train()  # batch statistics: convolution, batch norm and ReLU run as written
    with torch.no_grad():
        torch.testing.assert_close(block(x), unfolded())


def test_reduced_convolution_adds_its_bias_in_float32():
    """A folded bias carries the batch norm's shift, large beside the output: rounded to bf16
    (100.3 -> 100.5) it would move every output by 0.2; oneDNN adds it in float32."""
    conv = nn.Conv2d(2, 1, 3, padding=0, bias=True)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = -100.0  # exact in bf16: cancels the bias on a constant input
        conv.weight[0, 1] = torch.randn(3, 3) * 0.01
        conv.bias.fill_(100.3)
    x = torch.cat([torch.ones(1, 1, 6, 6), torch.randn(1, 1, 6, 6)], 1)
    cached = CachedConvForward(conv, None, torch.bfloat16, torch.channels_last)
    with torch.no_grad():
        out = cached(x).float()
        ref = torch.nn.functional.conv2d(x.bfloat16().float(), conv.weight.bfloat16().float(),
                                         conv.bias)
    assert cached.bias.dtype == torch.float32
    assert (out - ref).abs().max().item() < 0.01  # a bf16 bias would be off by 0.2


def test_deformable_layer_offsets_read_its_input_as_given():
    """Under bf16 the deformable layer's offset convolution (float32) gets the layer's float32
    input itself, not a bf16 rounding of it cast back."""
    torch.manual_seed(0)
    dcn = FastModulatedDeformConv2dPack(8, 8, 3, padding=1).eval()
    seen = []
    dcn.conv_offset.forward = CachedConvForward(dcn.conv_offset, None, torch.float32,
                                                float32=True)
    dcn.conv_offset.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0]))
    dcn.forward = CachedConvForward(dcn, None, torch.bfloat16)
    x = torch.randn(1, 8, 9, 11) * 3
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = dcn(x)
    assert out.dtype == torch.bfloat16  # the products in bf16
    assert seen[0].dtype == torch.float32 and torch.equal(seen[0], x)
