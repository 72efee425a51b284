# Copyright (c) mmcenternet contributors. All rights reserved.
"""The compiled CPU kernel (fused sampling and gather) against the tensor implementation:
values for every layer configuration, the contribution rule at the map's edges and for
non-finite offsets, bfloat16, the switch and the fallback when it cannot be built."""
import os

import pytest
import torch

import mmcenternet.ops.compiled as compiled
from mmcenternet.ops import modulated_deform_conv2d_fast

from test_modulated_deform_conv import make_inputs, rel_err  # noqa: E402  (same folder)


@pytest.fixture(scope='module')
def kernel():
    if not compiled.load_compiled_ops():
        if os.environ.get('CI', '').lower() == 'true':
            pytest.fail(f'the compiled kernel must build under CI: {compiled.compiled_ops_error()}')
        pytest.skip(f'no compiled kernel here: {compiled.compiled_ops_error()}')
    return torch.ops.mmcenternet.deform_gather


def run(inputs, conf, compiled_on: bool, monkeypatch, relu: bool = False):
    monkeypatch.setenv('MMCENTERNET_COMPILED_OPS', '1' if compiled_on else '0')
    stride, padding, dilation, dg = conf
    with torch.no_grad():
        return modulated_deform_conv2d_fast(*inputs, stride, padding, dilation, dg, relu=relu)


CASES = [  # n, c_in, c_out, h, w, kernel, stride, padding, dilation, deform_groups
    (1, 16, 8, 9, 11, (3, 3), 1, 1, 1, 1),      # channels below one block (tail only)
    (1, 32, 64, 12, 10, (3, 3), 1, 1, 1, 1),    # one full block
    (2, 24, 72, 10, 13, (3, 3), 2, 1, 1, 1),    # batch 2, stride 2, full block + tail
    (1, 16, 130, 8, 9, (3, 3), 1, 2, 2, 1),     # dilation 2, two blocks + tail
    (1, 32, 40, 9, 7, (3, 3), 1, 1, 1, 4),      # deformable groups
    (1, 8, 16, 7, 8, (1, 3), 1, 1, 1, 1),       # non-square kernel
]


@pytest.mark.parametrize('case', CASES)
def test_matches_the_tensor_implementation(kernel, case, monkeypatch):
    n, ci, co, h, w, k, s, p, d, dg = case
    inputs, conf = make_inputs(n, ci, co, h, w, k, s, p, d, dg, offset_std=3.0)
    ref = run(inputs, conf, False, monkeypatch)
    out = run(inputs, conf, True, monkeypatch)
    assert out.shape == ref.shape
    assert rel_err(out, ref) < 2e-6
    # without a bias
    ref = run(inputs[:4] + [None], conf, False, monkeypatch)
    out = run(inputs[:4] + [None], conf, True, monkeypatch)
    assert rel_err(out, ref) < 2e-6
    # with the ReLU fused
    ref = run(inputs, conf, False, monkeypatch, relu=True)
    out = run(inputs, conf, True, monkeypatch, relu=True)
    assert (ref == 0).any() and (ref > 0).any()
    assert rel_err(out, ref) < 2e-6
    # the mask as logits, its sigmoid in the kernel
    logits = torch.logit(inputs[2].clamp(1e-3, 1 - 1e-3))
    ref = run(inputs[:2] + [torch.sigmoid(logits)] + inputs[3:], conf, False, monkeypatch)
    monkeypatch.setenv('MMCENTERNET_COMPILED_OPS', '1')
    with torch.no_grad():
        out = modulated_deform_conv2d_fast(*inputs[:2], logits, *inputs[3:], *conf,
                                           mask_logits=True)
    assert rel_err(out, ref) < 2e-6


def test_edges_and_non_finite_offsets(kernel, monkeypatch):
    """Points on and around -1 and H / W, far outside, NaN and +-inf: mmcv's rule, as the
    tensor table applies it."""
    inputs, conf = make_inputs(1, 8, 8, 6, 7, offset_std=0.0)
    offset = inputs[1]
    values = torch.tensor([-1.0, -0.999, -1.001, 0.0, 5.0, 5.5, 6.0, 6.25, 100.0, -100.0,
                           float('nan'), float('inf'), -float('inf'), 0.5, -0.5])
    gen = torch.Generator().manual_seed(3)
    # positions relative to the grid: offsets that put points exactly on the edges
    grid_y = torch.arange(6).view(1, 1, 6, 1).float()
    pick = values[torch.randint(len(values), offset.shape, generator=gen)]
    offset.copy_(pick - grid_y)
    ref = run(inputs, conf, False, monkeypatch)
    out = run(inputs, conf, True, monkeypatch)
    assert torch.isfinite(out).all()
    assert rel_err(out, ref) < 2e-6


def test_strided_channels_last_offsets_and_inputs(kernel, monkeypatch):
    inputs, conf = make_inputs(1, 16, 24, 10, 12)
    x, offset, mask, weight, bias = inputs
    both = torch.cat([offset, mask], 1).contiguous(memory_format=torch.channels_last)
    strided = [x.contiguous(memory_format=torch.channels_last), both[:, :18], both[:, 18:],
               weight, bias]
    ref = run(inputs, conf, False, monkeypatch)
    out = run(strided, conf, True, monkeypatch)
    assert rel_err(out, ref) < 2e-6


def test_bfloat16_products_float32_positions(kernel, monkeypatch):
    """Under autocast the rows are bfloat16 and the positions float32; the result is as close
    to float32 as the tensor implementation's bfloat16 result."""
    inputs, conf = make_inputs(1, 64, 136, 12, 14, offset_std=4.0)
    ref32 = run(inputs, conf, True, monkeypatch)
    results = {}
    for on in (False, True):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            results[on] = run(inputs, conf, on, monkeypatch)
            # the ReLU in the AVX-512 block and in the generic tail (136 = 2 x 64 + 8 channels)
            rectified = run(inputs, conf, on, monkeypatch, relu=True)
        assert results[on].dtype == torch.bfloat16
        assert torch.equal(rectified, torch.relu(results[on]))
    err_tensor = rel_err(results[False].float(), ref32)
    err_kernel = rel_err(results[True].float(), ref32)
    assert err_kernel < 2e-2
    assert err_kernel <= 1.5 * err_tensor  # float32 sums and weights: no worse


def test_training_keeps_the_tensor_implementation(kernel, monkeypatch):
    """With gradients required the kernel is not used (it has no backward)."""
    monkeypatch.setenv('MMCENTERNET_COMPILED_OPS', '1')
    calls = []
    monkeypatch.setattr('mmcenternet.ops.modulated_deform_conv.deform_gather',
                        lambda *a, **k: calls.append(1))
    inputs, conf = make_inputs(1, 8, 8, 6, 7)
    inputs[3].requires_grad_()
    out = modulated_deform_conv2d_fast(*inputs, *conf)
    out.sum().backward()
    assert not calls and inputs[3].grad is not None


def test_switched_off(monkeypatch):
    monkeypatch.setenv('MMCENTERNET_COMPILED_OPS', '0')
    assert not compiled.compiled_ops_enabled() and not compiled.load_compiled_ops()


def test_a_failed_build_falls_back_with_one_log_line(monkeypatch):
    messages = []
    monkeypatch.setattr(compiled, 'print_log', lambda msg, **kw: messages.append(msg))
    monkeypatch.setenv('MMCENTERNET_COMPILED_OPS', '1')
    monkeypatch.setattr(compiled, '_STATE', {'loaded': None, 'error': None})
    monkeypatch.setattr(compiled.torch.ops, 'mmcenternet', object(), raising=False)

    def broken():
        raise RuntimeError('Error building extension: g++ not found')

    monkeypatch.setattr(compiled, '_build', broken)
    assert not compiled.load_compiled_ops()
    assert not compiled.load_compiled_ops()  # tried once
    assert len(messages) == 1 and '\n' not in messages[0]
    assert 'could not be built' in messages[0] and 'g++ not found' in messages[0]
    inputs, conf = make_inputs(1, 8, 8, 6, 7)
    with torch.no_grad():
        out = modulated_deform_conv2d_fast(*inputs, *conf)
    assert out.shape == (1, 8, 6, 7)
