# Copyright (c) mmcenternet contributors. All rights reserved.
import numpy as np
import pytest
import torch
from golden import dense, load_npz

from mmcenternet.models.utils import (centernet_gaussian_radius, draw_gaussians_,
                                      gaussian_kernel, radius_from_box_size)


def test_radius_examples_from_spec():
    # (h, w) -> int radius, values stated in the specification of the original.
    cases = {(1, 1): 0, (3, 5): 1, (10, 10): 2, (10, 40): 4, (32, 32): 8, (100, 100): 27,
             (128, 128): 34}
    h = torch.tensor([float(k[0]) for k in cases])
    w = torch.tensor([float(k[1]) for k in cases])
    assert radius_from_box_size(h, w).tolist() == list(cases.values())


def test_radius_is_not_mmdets_corrected_formula():
    from mmdet.models.utils import gaussian_radius
    r = centernet_gaussian_radius(torch.tensor([64.]), torch.tensor([64.]))
    assert int(r) == 17 and int(gaussian_radius((64, 64), 0.7)) != 17


def test_draw_single_and_max_merge():
    hm = torch.zeros(1, 16, 16)
    draw_gaussians_(hm, torch.tensor([0]), torch.tensor([[5, 5]]), torch.tensor([2]))
    k, _ = gaussian_kernel(2)
    assert torch.allclose(hm[0, 3:8, 3:8], k.float())
    assert hm[0, 5, 5] == 1 and hm.sum() == pytest.approx(float(k.sum()), rel=1e-6)
    # clipped at the border, radius 0 draws one pixel, overlaps take the maximum
    draw_gaussians_(hm, torch.tensor([0, 0]), torch.tensor([[0, 15], [6, 5]]),
                    torch.tensor([3, 0]))
    assert hm[0, 15, 0] == 1 and hm[0, 5, 6] == 1
    assert hm[0, 12, 0] == pytest.approx(float(gaussian_kernel(3)[0][0, 3]), rel=1e-6)
    # centres outside the map draw only what falls inside
    hm2 = torch.zeros(1, 8, 8)
    draw_gaussians_(hm2, torch.tensor([0]), torch.tensor([[-2, 3]]), torch.tensor([3]))
    assert hm2[0, :, 2:].sum() == 0 and hm2[0, 3, 0] > 0


@pytest.mark.golden
def test_radius_golden():
    z = load_npz('radius.npz')
    hw = torch.from_numpy(z['hw'])
    r = centernet_gaussian_radius(hw[:, 0], hw[:, 1], float(z['min_overlap']))
    np.testing.assert_allclose(r.numpy(), z['radius'], rtol=1e-12)
    r_int = torch.clamp(torch.trunc(r), min=0).to(torch.int64)
    np.testing.assert_array_equal(r_int.numpy(), z['radius_int'])


@pytest.mark.golden
def test_draw_umich_gaussian_golden():
    z = load_npz('draw_gaussian.npz')
    h, w = z['umich_map_hw'].tolist()
    centers = torch.from_numpy(z['umich_center'])
    radii = torch.from_numpy(z['umich_radius'])
    n = len(radii)
    single = torch.zeros(n, h, w)
    draw_gaussians_(single, torch.arange(n), centers, radii)
    ref = np.zeros((n, h * w), np.float32)
    ref[z['umich_single_draw'], z['umich_single_idx']] = z['umich_single_val']
    np.testing.assert_allclose(single.reshape(n, -1).numpy(), ref, atol=1e-6)
    accum = torch.zeros(1, h, w)
    draw_gaussians_(accum, torch.zeros(n, dtype=torch.int64), centers, radii)
    np.testing.assert_allclose(accum[0].numpy(), dense(z, 'umich_accum'), atol=1e-6)


def test_corrected_radius_solves_the_three_iou_cases():
    """The corrected roots: a box shifted / grown / shrunk by r keeps IoU = min_overlap in the
    case that binds (the original's formula gives much larger radii)."""
    from mmcenternet.models.utils import corrected_gaussian_radius, radius_from_box_size
    h, w, m = torch.tensor([30.0, 12.0]), torch.tensor([40.0, 80.0]), 0.7
    r = corrected_gaussian_radius(h, w, m)
    hh, ww = h.double(), w.double()
    # case 1: both corners shifted by r inward / outward
    iou1 = (hh - r) * (ww - r) / (2 * hh * ww - (hh - r) * (ww - r))
    # case 2: the box grown by 2r
    iou2 = hh * ww / ((hh + 2 * r) * (ww + 2 * r))
    # case 3: the box shrunk by 2r
    iou3 = (hh - 2 * r) * (ww - 2 * r) / (hh * ww)
    best = torch.stack([iou1, iou2, iou3]).min(0).values
    torch.testing.assert_close(best, torch.full_like(best, m), atol=1e-9, rtol=0)
    faithful = radius_from_box_size(h, w, m)
    corrected = radius_from_box_size(h, w, m, rule='corrected')
    assert (corrected < faithful).all()
    with pytest.raises(ValueError, match='radius_rule must be one of'):
        radius_from_box_size(h, w, m, rule='exact')
