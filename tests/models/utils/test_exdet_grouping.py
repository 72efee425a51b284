# Copyright (c) mmcenternet contributors. All rights reserved.
"""The pruned, chunked grouping returns exactly the brute-force top N (no reference data)."""
import itertools

import numpy as np
import pytest
import torch

from mmcenternet.models.task_modules import CenterNetExdetDecoder
from mmcenternet.models.utils import group_extreme_points, quadruple_scores


def brute_force(scores, xs, ys, labels, center, num_dets, key=None, thr=0.1, cthr=0.1):
    """Every quadruple scored (t-major order), then one ``torch.topk``: the original's way."""
    k = scores.shape[1]
    grid = torch.tensor(list(itertools.product(range(k), repeat=4)))
    s = quadruple_scores(scores, xs, ys, labels, center, *grid.T, center_key=key,
                         scores_thresh=thr, center_thresh=cthr)
    top, idx = torch.topk(s, min(num_dets, len(s)))
    return top, grid[idx]


def random_peaks(seed, k, h, w, c, spread=1.0, ties=False):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(4, k, generator=g) * spread
    if ties:
        scores = (scores * 4).round() / 4  # many exactly equal scores
    scores = scores.sort(dim=1, descending=True).values
    xs = torch.randint(0, w, (4, k), generator=g)
    ys = torch.randint(0, h, (4, k), generator=g)
    labels = torch.randint(0, c, (4, k), generator=g)
    center = torch.rand(c, h, w, generator=g)
    return scores, xs, ys, labels, center


def assert_same_top(got, ref):
    """Same score sequence; the quadruples equal wherever the score is not tied."""
    (s, q), (rs, rq) = got, ref
    np.testing.assert_array_equal(s.numpy(), rs.numpy())
    vals, counts = np.unique(rs.numpy(), return_counts=True)
    unique = np.isin(rs.numpy(), vals[counts == 1])
    np.testing.assert_array_equal(q.numpy()[unique], rq.numpy()[unique])
    # tied scores: the same multiset of quadruples' scores (any of the tied ones is correct)
    assert len({tuple(r) for r in q.tolist()}) == len(q)


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('num_dets', [1, 50, 1000])
def test_matches_brute_force(seed, num_dets):
    k, h, w, c = 9, 12, 14, 3
    args = random_peaks(seed, k, h, w, c, spread=0.5 + 0.1 * seed)
    got = group_extreme_points(*args, num_dets=num_dets, chunk=97)
    assert_same_top(got, brute_force(*args, num_dets))


@pytest.mark.parametrize('seed', range(3))
def test_matches_brute_force_with_ties_and_agnostic_centre(seed):
    k, h, w = 8, 10, 10
    scores, xs, ys, labels, center = random_peaks(10 + seed, k, h, w, 4, ties=True)
    labels = torch.zeros_like(labels)
    key = torch.zeros(k, dtype=torch.int64)
    center = center.amax(0, keepdim=True)
    got = group_extreme_points(scores, xs, ys, labels, center, num_dets=300, center_key=key,
                               chunk=50)
    assert_same_top(got, brute_force(scores, xs, ys, labels, center, 300, key=key))


def test_fewer_quadruples_than_num_dets():
    args = random_peaks(3, 3, 5, 5, 2)
    s, q = group_extreme_points(*args, num_dets=1000)
    assert len(s) == 81 and len(q) == 81
    assert_same_top((s, q), brute_force(*args, 1000))


def test_only_reachable_quadruples_are_scored():
    """A trained-like case (a few strong peaks): most of the K^4 quadruples are never scored."""
    k, h, w = 40, 32, 32
    scores, xs, ys, labels, center = random_peaks(7, k, h, w, 2, spread=0.2)
    scores[:, :4] += 0.7  # four strong objects' points
    stats = {}
    got = group_extreme_points(scores, xs, ys, labels, center, num_dets=100, stats=stats)
    assert stats['quadruples'] == k**4 and stats['scored'] < 0.2 * k**4
    ref_s = quadruple_scores(scores, xs, ys, labels, center, *got[1].T)
    np.testing.assert_array_equal(got[0].numpy(), ref_s.numpy())


def test_rules_and_score_formula():
    """One valid box and each rule broken once, scored by hand."""
    h = w = 20
    center = torch.zeros(2, h, w)
    center[0, 10, 10] = 0.5
    # peaks: t (10, 2), l (2, 10), b (10, 18), r (18, 10): centre cell (10, 10)
    xs = torch.tensor([[10, 10], [2, 2], [10, 10], [18, 18]])
    ys = torch.tensor([[2, 2], [10, 10], [18, 18], [10, 10]])
    scores = torch.tensor([[0.9, 0.05], [0.8, 0.8], [0.7, 0.7], [0.6, 0.6]])
    labels = torch.tensor([[0, 0], [0, 1], [0, 0], [0, 0]])
    first = torch.zeros(1, dtype=torch.int64)  # index of the first peak
    s = quadruple_scores(scores, xs, ys, labels, center, first, first, first, first)
    expected = np.float32((np.float32(0.9) + np.float32(0.8) + np.float32(0.7) +
                           np.float32(0.6) + 2 * np.float32(0.5)) / np.float32(6))
    np.testing.assert_allclose(float(s), expected, rtol=1e-6)
    second = first + 1
    # a low top score: one penalty
    s_low = quadruple_scores(scores, xs, ys, labels, center, second, first, first, first)
    assert -1 < float(s_low) < 0
    # another class on the left point: one penalty (the centre is read in the top's class)
    s_cls = quadruple_scores(scores, xs, ys, labels, center, first, second, first, first)
    np.testing.assert_allclose(float(s_cls), expected - 1, rtol=1e-6)
    # equal coordinates pass (strict comparisons): top and left at the same point (2, 2); the
    # centre cell stays ((2 + 18) // 2, (2 + 18) // 2) = (10, 10)
    xs2, ys2 = xs.clone(), ys.clone()
    xs2[0], ys2[0] = 2, 2
    xs2[1], ys2[1] = 2, 2
    s_eq = quadruple_scores(scores, xs2, ys2, labels, center, first, first, first, first)
    np.testing.assert_allclose(float(s_eq), expected, rtol=1e-6)
    # the right point left of the bottom point: "right not rightmost" (one penalty)
    xs3 = xs.clone()
    xs3[3] = 9  # centre cell (5, 10) has score 0: the centre check fails as well
    s_geo = quadruple_scores(scores, xs3, ys, labels, center, first, first, first, first)
    assert -2 <= float(s_geo) < -1


def test_decoder_batched_class_agnostic_and_offsets():
    g = torch.Generator().manual_seed(0)
    b, c, h, w = 2, 3, 16, 20
    heat = {p: torch.rand(b, 1, h, w, generator=g) * 0.3 for p in 'tlbr'}
    heat['c'] = torch.rand(b, c, h, w, generator=g) * 0.3
    # one clear object per image
    for i, (x1, y1, x2, y2) in enumerate([(3, 2, 12, 10), (5, 4, 17, 14)]):
        heat['t'][i, 0, y1, (x1 + x2) // 2] = 0.95
        heat['l'][i, 0, (y1 + y2) // 2, x1] = 0.9
        heat['b'][i, 0, y2, (x1 + x2) // 2] = 0.85
        heat['r'][i, 0, (y1 + y2) // 2, x2] = 0.8
        heat['c'][i, 2, (y1 + y2) // 2, (x1 + x2) // 2] = 0.99
    offs = {p: torch.full((b, 2, h, w), 0.25) for p in 'tlbr'}
    dets = CenterNetExdetDecoder(topk=20, num_dets=50).decode(heat, offs)
    assert dets.shape == (2, 50, 14)
    for i, (x1, y1, x2, y2) in enumerate([(3, 2, 12, 10), (5, 4, 17, 14)]):
        best = dets[i, 0].numpy()
        np.testing.assert_allclose(best[:4], [x1 + .25, y1 + .25, x2 + .25, y2 + .25])
        assert best[13] == 2  # the class of the centre map's maximum
        assert best[4] > 0 and (dets[i, 1:, 4] <= best[4]).all()


def test_benchmark_script_runs(tmp_path, capsys):
    """The decode benchmark (figures only) runs on small settings: generated scenarios and saved
    head maps, and its original-style reference agrees with the grouping."""
    import importlib.util
    import json

    from golden import REPO
    spec = importlib.util.spec_from_file_location(
        'benchmark_exdet_decode', f'{REPO}/tools/analysis_tools/benchmark_exdet_decode.py')
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    maps = {f'hm_{p}': torch.randn(1, 3, 16, 20) for p in 'tlbrc'}
    maps.update({f'reg_{p}': torch.rand(1, 2, 16, 20) for p in 'tlbr'})
    torch.save(maps, str(tmp_path / 'maps.pth'))
    small = ['--single', '--topk', '8', '--map-size', '16', '20', '--classes', '3', '--repeat',
             '1', '--num-dets', '100']
    for extra in (['--scenario', 'trained'], ['--scenario', 'flat'], ['--scenario', 'random'],
                  ['--maps', str(tmp_path / 'maps.pth')]):
        bench.main(small + extra)
        out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out['quadruples'] == 8**4 and 0 < out['scored'] <= 8**4
    data = bench.make_maps('random', 3, 16, 20)
    ref, _ = bench.original_exdet_grouping(data['heat'], None, 8, 100)  # reference_impls
    from mmcenternet.models.task_modules import CenterNetExdetDecoder
    dets = CenterNetExdetDecoder(topk=8, num_dets=100).decode(data['heat'], None)
    np.testing.assert_array_equal(dets[0, :, 4].numpy(), ref.numpy())
