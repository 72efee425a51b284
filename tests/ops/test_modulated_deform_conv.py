# Copyright (c) mmcenternet contributors. All rights reserved.
"""mmcenternet's fast modulated deformable convolution against mmcv's op: values, gradients,
parameters, selection of the implementation and the fallback for unsupported layers."""
import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer
from mmcv.ops import modulated_deform_conv2d
from mmcv.ops.modulated_deform_conv import ModulatedDeformConv2dPack

import mmcenternet.ops.modulated_deform_conv as fast_dcn
from mmcenternet.ops import (FastModulatedDeformConv2dPack, choose_impl,
                             modulated_deform_conv2d_fast, sampling_table)

REL_TOL = 2e-5  # relative to the largest output / gradient magnitude


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()


def make_inputs(n, c_in, c_out, h, w, kernel=(3, 3), stride=1, padding=1, dilation=1,
                deform_groups=1, offset_std=2.0, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    kh, kw = kernel
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    taps = deform_groups * kh * kw
    x = torch.randn(n, c_in, h, w, generator=gen, dtype=dtype)
    offset = torch.randn(n, 2 * taps, ho, wo, generator=gen, dtype=dtype) * offset_std
    mask = torch.rand(n, taps, ho, wo, generator=gen, dtype=dtype)
    weight = torch.randn(c_out, c_in, kh, kw, generator=gen, dtype=dtype) / (kh * kw * c_in)**0.5
    bias = torch.randn(c_out, generator=gen, dtype=dtype)
    return [x, offset, mask, weight, bias], (stride, padding, dilation, deform_groups)


def both(inputs, conf, backward=False, seed=1):
    """Outputs (and gradients of every input) of mmcv's op and of the fast one."""
    stride, padding, dilation, dg = conf
    results = []
    for impl in ('mmcv', 'fast'):
        leaves = [t.clone().requires_grad_(backward) for t in inputs]
        if impl == 'mmcv':
            out = modulated_deform_conv2d(*leaves, stride, padding, dilation, 1, dg)
        else:
            out = modulated_deform_conv2d_fast(*leaves, stride, padding, dilation, dg)
        grads = []
        if backward:
            g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed))
            out.backward(g)
            grads = [t.grad for t in leaves]
        results.append((out.detach(), grads))
    return results


def test_large_layer_matches_mmcv():
    """The 64 -> 64 3x3 layer on a 128 x 168 map (DLA-34's stride-4 nodes at 512 x 672)."""
    inputs, conf = make_inputs(1, 64, 64, 128, 168)
    (ref, _), (out, _) = both(inputs, conf)
    assert out.shape == ref.shape
    assert rel_err(out, ref) < REL_TOL


CASES = {
    'plain': dict(n=2, c_in=8, c_out=6, h=9, w=11),
    'far outside': dict(n=1, c_in=4, c_out=5, h=6, w=7, offset_std=6.0),
    'stride dilation': dict(n=2, c_in=6, c_out=4, h=10, w=9, stride=2, padding=2, dilation=2),
    'deform groups': dict(n=1, c_in=8, c_out=3, h=7, w=8, deform_groups=4),
    'kernel 3x2, no pad': dict(n=1, c_in=4, c_out=5, h=7, w=6, kernel=(3, 2), padding=0),
    '1x1': dict(n=2, c_in=6, c_out=4, h=5, w=5, kernel=(1, 1), padding=0),
    'one pixel': dict(n=1, c_in=3, c_out=2, h=1, w=1),
}


@pytest.mark.parametrize('case', list(CASES))
def test_small_shapes_values_and_gradients_match_mmcv(case):
    inputs, conf = make_inputs(**CASES[case])
    (ref, ref_grads), (out, grads) = both(inputs, conf, backward=True)
    assert rel_err(out, ref) < REL_TOL
    for name, g, r in zip(('input', 'offset', 'mask', 'weight', 'bias'), grads, ref_grads):
        assert rel_err(g, r) < REL_TOL, name


def test_boundary_positions_match_mmcv():
    """Sampling points on and around the map border, exactly integer or fractional, and points
    so far outside (or NaN) that they read nothing."""
    inputs, conf = make_inputs(1, 3, 4, 5, 6, offset_std=0.0)
    offset = inputs[1]
    values = torch.tensor([-7.0, -2.0, -1.5, -1.0, -0.75, -0.5, 0.0, 0.25, 1.0, 4.5, 5.0, 6.0])
    gen = torch.Generator().manual_seed(3)
    offset.copy_(values[torch.randint(len(values), offset.shape, generator=gen)])
    (ref, ref_grads), (out, grads) = both(inputs, conf, backward=True)
    assert rel_err(out, ref) < REL_TOL
    for g, r in zip(grads, ref_grads):
        assert rel_err(g, r) < REL_TOL
    offset[0, 0, 0, 0] = float('nan')  # mmcv: such a point contributes nothing
    offset[0, 3, 1, 2] = float('inf')
    (ref, _), (out, _) = both(inputs, conf)
    assert torch.isfinite(out).all()
    assert rel_err(out, ref) < REL_TOL


def test_zero_offsets_are_a_plain_convolution():
    inputs, conf = make_inputs(2, 5, 4, 6, 7, offset_std=0.0)
    x, offset, mask, weight, bias = inputs
    mask.fill_(1.0)
    out = modulated_deform_conv2d_fast(x, offset, mask, weight, bias, 1, 1, 1, 1)
    ref = F.conv2d(x, weight, bias, padding=1)
    assert rel_err(out, ref) < REL_TOL


def test_gradcheck_float64():
    inputs, conf = make_inputs(2, 3, 2, 4, 5, deform_groups=1, dtype=torch.float64, seed=5)
    offset = inputs[1]
    # fractional positions away from the integers (bilinear sampling has kinks there), some
    # points partly or wholly outside the map
    gen = torch.Generator().manual_seed(7)
    whole = torch.randint(-3, 3, offset.shape, generator=gen).to(torch.float64)
    offset.copy_(whole + 0.2 + 0.6 * torch.rand(offset.shape, generator=gen, dtype=torch.float64))
    leaves = [t.clone().requires_grad_() for t in inputs]
    stride, padding, dilation, dg = conf

    def fn(x, off, mask, weight, bias):
        return modulated_deform_conv2d_fast(x, off, mask, weight, bias, stride, padding,
                                            dilation, dg)

    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_float64_deform_groups_stride():
    inputs, conf = make_inputs(1, 2, 2, 4, 4, stride=2, dilation=2, padding=2, deform_groups=2,
                               dtype=torch.float64, seed=8)
    offset = inputs[1]
    gen = torch.Generator().manual_seed(9)
    whole = torch.randint(-2, 2, offset.shape, generator=gen).to(torch.float64)
    offset.copy_(whole + 0.2 + 0.6 * torch.rand(offset.shape, generator=gen, dtype=torch.float64))
    leaves = [t.clone().requires_grad_() for t in inputs]

    def fn(x, off, mask, weight, bias):
        return modulated_deform_conv2d_fast(x, off, mask, weight, bias, 2, 2, 2, 2)

    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=True)


def test_sampling_table_rows():
    """A point at (0.25, 0.5) from the first tap's grid position, mask 0.5: four corners."""
    offset = torch.zeros(1, 2, 1, 1)
    offset[0, 0], offset[0, 1] = 1.25, 1.5  # tap (0, 0) of a 1x1 kernel at output (0, 0)
    mask = torch.full((1, 1, 1, 1), 0.5)
    index, weight = sampling_table(offset, mask, (3, 4), (1, 1), (1, 1), (0, 0), (1, 1))
    assert index.tolist() == [[1 * 4 + 1, 1 * 4 + 2, 2 * 4 + 1, 2 * 4 + 2]]
    expected = torch.tensor([[0.75 * 0.5, 0.75 * 0.5, 0.25 * 0.5, 0.25 * 0.5]]) * 0.5
    assert torch.allclose(weight, expected)


def test_sampling_table_is_corner_major():
    """Two taps (a 1x2 kernel): the four corners in turn, each with both taps; tap 1 sampled
    at (0.5, 1.25) reads columns 1 and 2 of image rows 0 and 1."""
    offset = torch.zeros(1, 4, 1, 1)
    offset[0, 2], offset[0, 3] = 0.5, 0.25  # (dy, dx) of tap 1, whose grid position is (0, 1)
    mask = torch.tensor([1.0, 0.5]).view(1, 2, 1, 1)
    index, weight = sampling_table(offset, mask, (3, 4), (1, 2), (1, 1), (0, 0), (1, 1))
    taps = 2
    # per corner (top-left, top-right, bottom-left, bottom-right): (tap 0's pixel, tap 1's);
    # tap 0 sits on pixel (0, 0), so its far corners are in the map with weight 0
    corners = (((0, 0), (0, 1)), ((0, 1), (0, 2)), ((1, 0), (1, 1)), ((1, 1), (1, 2)))
    expected_index = [(y * 4 + x) * taps + t for pair in corners
                      for t, (y, x) in enumerate(pair)]
    assert index.tolist() == [expected_index]
    expected = [1.0, 0.5 * 0.75 * 0.5, 0.0, 0.5 * 0.25 * 0.5, 0.0, 0.5 * 0.75 * 0.5, 0.0,
                0.5 * 0.25 * 0.5]
    assert torch.allclose(weight, torch.tensor([expected]))


def test_layer_is_dcnv2_with_the_same_parameters():
    torch.manual_seed(0)
    ref = build_conv_layer(dict(type='DCNv2', deform_groups=1), 8, 6, 3, padding=1)
    torch.manual_seed(0)
    layer = build_conv_layer(dict(type='DCNv2Fast', deform_groups=1), 8, 6, 3, padding=1)
    assert isinstance(layer, FastModulatedDeformConv2dPack)
    assert isinstance(layer, ModulatedDeformConv2dPack)
    sd, ref_sd = layer.state_dict(), ref.state_dict()
    assert list(sd) == list(ref_sd) == ['weight', 'bias', 'conv_offset.weight', 'conv_offset.bias']
    assert all(torch.equal(sd[k], ref_sd[k]) for k in sd)  # same initialisation
    torch.nn.init.normal_(ref.conv_offset.weight, std=0.3)
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(2, 8, 7, 9)
    with torch.no_grad():
        expected = ref(x)
        for impl in ('auto', 'fast', 'mmcv'):
            layer.impl = impl
            assert rel_err(layer(x), expected) < REL_TOL, impl


def test_channels_last_and_strided_inputs():
    """The fast path returns channels-last maps; both paths accept them (mmcv's kernel reads
    raw memory, so the layer hands it contiguous tensors)."""
    torch.manual_seed(0)
    first = FastModulatedDeformConv2dPack(4, 6, 3, padding=1, impl='fast')
    second = FastModulatedDeformConv2dPack(6, 5, 3, padding=1)
    for m in (first, second):
        torch.nn.init.normal_(m.conv_offset.weight, std=0.3)
    x = torch.randn(2, 4, 6, 7)
    with torch.no_grad():
        y = first(x)
        assert torch.equal(y, y.contiguous())
        outs = {}
        for impl in ('fast', 'mmcv'):
            second.impl = impl
            outs[impl] = second(y)
            assert rel_err(second(y.contiguous()), outs[impl]) < 1e-6
    assert rel_err(outs['fast'], outs['mmcv']) < REL_TOL


def test_choose_impl_rule(monkeypatch):
    assert choose_impl('auto', 'cpu') == 'fast'
    assert choose_impl('fast', 'cpu') == 'fast'
    assert choose_impl('mmcv', 'cpu') == 'mmcv'
    assert choose_impl('fast', 'cpu', reason='groups=2') == 'mmcv'
    assert choose_impl('auto', 'npu') == 'mmcv'
    assert choose_impl('fast', 'cuda') == 'fast'
    monkeypatch.setattr(fast_dcn, '_MMCV_CUDA', True)
    assert choose_impl('auto', 'cuda') == 'mmcv'
    monkeypatch.setattr(fast_dcn, '_MMCV_CUDA', False)
    assert choose_impl('auto', 'cuda') == 'fast'
    with pytest.raises(ValueError, match='impl must be one of'):
        choose_impl('triton', 'cpu')
    with pytest.raises(ValueError, match='impl must be one of'):
        FastModulatedDeformConv2dPack(4, 4, 3, impl='fastest')


def test_unsupported_layer_falls_back_to_mmcv_with_one_log_line(monkeypatch):
    messages = []
    monkeypatch.setattr(fast_dcn, 'print_log', lambda msg, **kw: messages.append(msg))
    monkeypatch.setattr(fast_dcn, '_LOGGED', set())
    torch.manual_seed(0)
    layers = [FastModulatedDeformConv2dPack(8, 6, 3, padding=1, groups=2) for _ in range(3)]
    assert len(messages) == 1 and '\n' not in messages[0]
    assert 'groups=2' in messages[0] and 'mmcv' in messages[0]
    layer = layers[0]
    torch.nn.init.normal_(layer.conv_offset.weight, std=0.3)
    x = torch.randn(1, 8, 5, 6)
    with torch.no_grad():
        out = layer(x)
        raw = layer.conv_offset(x)
        ref = modulated_deform_conv2d(x, raw[:, :18].contiguous(), raw[:, 18:].sigmoid(),
                                      layer.weight, layer.bias, 1, 1, 1, 2, 1)
    assert torch.equal(out, ref)
    # the function itself refuses rather than computing something else
    with pytest.raises(ValueError, match='groups > 1'):
        modulated_deform_conv2d_fast(x, raw[:, :18], raw[:, 18:].sigmoid(), layer.weight,
                                     layer.bias, 1, 1, 1, 1)
    FastModulatedDeformConv2dPack(8, 6, 3, padding=1, groups=2, impl='mmcv')
    assert len(messages) == 1  # nothing to announce when mmcv's op is asked for


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast_runs_in_the_offsets_dtype(dtype):
    torch.manual_seed(0)
    layer = FastModulatedDeformConv2dPack(4, 6, 3, padding=1, impl='fast')
    x = torch.randn(1, 4, 6, 7)
    with torch.no_grad():
        ref = layer(x)
        with torch.autocast('cpu', dtype=dtype):
            out = layer(x)
    assert out.dtype == dtype
    assert rel_err(out.float(), ref) < 2e-2


def test_autocast_with_float32_offsets_multiplies_in_bfloat16():
    """The reduced-precision policy keeps the offset convolution float32: under autocast the
    products still run in bf16 (the output dtype), from the float32 offsets."""
    torch.manual_seed(0)
    inputs, conf = make_inputs(1, 8, 8, 6, 20, offset_std=0.7, seed=4)
    stride, padding, dilation, dg = conf
    ref = modulated_deform_conv2d_fast(*inputs, stride, padding, dilation, dg)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = modulated_deform_conv2d_fast(*inputs, stride, padding, dilation, dg)
    assert out.dtype == torch.bfloat16
    assert 0 < rel_err(out.float(), ref) < 3e-2


def test_bfloat16_keeps_the_sampling_positions_in_float32():
    """A bf16 layer (autocast) samples where the fp32 one does: on a 300-pixel-wide map, bf16
    positions (8 significant bits) would be off by up to a pixel; only the products are bf16."""
    inputs, conf = make_inputs(1, 8, 8, 6, 300, offset_std=0.7, seed=3)
    stride, padding, dilation, dg = conf
    ref = modulated_deform_conv2d_fast(*inputs, stride, padding, dilation, dg)
    half = [t.to(torch.bfloat16) for t in inputs]
    out = modulated_deform_conv2d_fast(*half, stride, padding, dilation, dg)
    assert out.dtype == torch.bfloat16
    assert rel_err(out.float(), ref) < 3e-2
    # the same products with positions rounded to bf16 first: clearly worse at the right edge
    x, offset, mask, weight, bias = half
    grid_x = torch.arange(300, dtype=torch.float32).view(1, 1, 1, 300)
    rounded = ((offset.float()[:, 1::2] + grid_x).to(torch.bfloat16).float() - grid_x)
    off_rounded = offset.float().clone()
    off_rounded[:, 1::2] = rounded
    worse = modulated_deform_conv2d_fast(*[t.float() for t in (x, )], off_rounded,
                                         mask.float(), weight.float(), bias.float(), stride,
                                         padding, dilation, dg)
    assert rel_err(worse, ref) > 2 * rel_err(out.float(), ref)
