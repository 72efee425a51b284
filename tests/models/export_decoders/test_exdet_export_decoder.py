# Copyright (c) mmcenternet contributors. All rights reserved.
"""The export version of the exdet decoder against the PyTorch decoder (random maps, padding)."""
import numpy as np
import pytest
import torch
from exdet_export_common import HEADS, PARTS, decoded_rows, onnx_session

from mmcenternet.models.export_decoders import EXDET_PAD_SCORE, ExdetDecoder
from mmcenternet.models.task_modules import CenterNetExdetDecoder


def _random_maps(seed: int, classes: int, extreme_classes: int, h: int, w: int,
                 offsets: bool = True):
    g = torch.Generator().manual_seed(seed)
    maps = [torch.randn(2, extreme_classes, h, w, generator=g) * 2 for _ in PARTS]
    maps.append(torch.randn(2, classes, h, w, generator=g) * 2)
    if offsets:
        maps += [torch.rand(2, 2, h, w, generator=g) for _ in PARTS]
    return maps


def _pytorch_rows(maps, k: int, n: int) -> np.ndarray:
    dec = CenterNetExdetDecoder(topk=k, num_dets=n)
    heat = {p: m.sigmoid() for p, m in zip(PARTS + ('c', ), maps[:5])}
    offs = dict(zip(PARTS, maps[5:])) or None
    return dec.decode(heat, offs).numpy()


@pytest.mark.parametrize('extreme_classes,offsets', [(3, True), (1, True), (3, False)])
def test_onnx_exdet_decoder_equals_the_pytorch_decoder(extreme_classes, offsets):
    """Class-specific and class-agnostic maps, with and without offsets, in several blocks."""
    k, n = 12, 500
    heads = HEADS if offsets else HEADS[:5]
    maps = _random_maps(extreme_classes + offsets, 3, extreme_classes, 10, 14, offsets)
    ref = _pytorch_rows(maps, k, n)
    blocks = ExdetDecoder(heads, 1, topk=k, kernel=3, stride=1.0, num_dets=n, chunk=5 * k**3)
    one = ExdetDecoder(heads, 1, topk=k, kernel=3, stride=1.0, num_dets=n, chunk=k**4)
    with torch.no_grad():
        # 3 blocks = 1 block
        assert np.array_equal(decoded_rows(blocks(maps)), decoded_rows(one(maps)))
    feeds = {h: m.numpy() for h, m in zip(heads, maps)}
    got = decoded_rows(onnx_session(blocks, maps).run(None, feeds))
    assert got.shape == ref.shape == (2, n, 14)
    np.testing.assert_array_equal(got[..., 13], ref[..., 13])
    np.testing.assert_allclose(got[..., 4], ref[..., 4], atol=1e-6, rtol=0)
    np.testing.assert_allclose(got[..., :13], ref[..., :13], atol=1e-5, rtol=0)
    assert (ref[..., 4] > 0).any() and (ref[..., 4] < 0).any()  # valid and penalised rows
    if extreme_classes == 1:  # agnostic: the class comes from the centre map
        assert len(np.unique(got[..., 13])) > 1


def test_onnx_exdet_decoder_pads_maps_smaller_than_k():
    """Class-agnostic 3 x 3 maps (9 cells) with K = 12: the real quadruples (9^4 = 6561 >= N)
    come first, as the PyTorch decoder returns them; padding rows only when N exceeds them."""
    k = 12
    maps = _random_maps(7, 2, 1, 3, 3)
    for n in (1000, 7000):
        ref = _pytorch_rows(maps, k, n)
        decoder = ExdetDecoder(HEADS, 1, topk=k, kernel=3, stride=1.0, num_dets=n)
        with torch.no_grad():
            got = decoded_rows(decoder(maps))
        real = ref.shape[1]
        assert real == min(n, 9**4) and got.shape[1] == n
        np.testing.assert_allclose(got[:, :real, 4], ref[..., 4], atol=1e-6, rtol=0)
        np.testing.assert_array_equal(got[:, :real, 13], ref[..., 13])
        assert np.all(got[:, real:, 4] < EXDET_PAD_SCORE / 10)
        assert np.all(got[:, :real, 4] > -7)
