# Copyright (c) mmcenternet contributors. All rights reserved.
"""Time and memory of the exdet grouping (CenterNetExdetDecoder) per image, on CPU or GPU.

Usage:
    python tools/analysis_tools/benchmark_exdet_decode.py                 # all scenarios
    python tools/analysis_tools/benchmark_exdet_decode.py --onnx          # + the ONNX decoder
    python tools/analysis_tools/benchmark_exdet_decode.py --scenario random --repeat 5
    python tools/analysis_tools/benchmark_exdet_decode.py --maps head_outputs.pth
    python tools/analysis_tools/benchmark_exdet_decode.py --original-style --topk 40

The original ``exct_decode`` materialises all K^4 quadruples (K = 100: 10^8 per image, about
8 GB); mmcenternet's grouping scores only the quadruples whose upper bound can still reach the
1000th best score, in bounded blocks, and returns the same 1000. With ``--onnx`` each scenario
also runs the export version (:class:`mmcenternet.deployment.ExdetDecoder`, the graph that
``export_onnx.py --with-decoder`` appends: every quadruple scored in fixed-size blocks) in
onnxruntime on the same maps. Each scenario runs in a fresh
process so that its peak memory can be read: ``peak MB`` is the growth of the process's peak
resident memory during the decode calls (the maps themselves are allocated before; Linux). Printed
figures only; nothing is asserted.

Scenarios (80 classes, 112 x 168 maps = a 448 x 672 input, K = 100 unless changed):

* ``trained``: a few dozen objects with clear extreme-point and centre peaks over a low,
  noisy background, as a trained model gives;
* ``random``: smooth random logits around 0.5 in every map (a network with random weights,
  like the golden end-to-end case, where every quadruple is penalised);
* ``flat``: all peaks of every map with one score, one class and one centre value per row (the
  bounds cannot separate the quadruples: the slowest case for the pruning).
"""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # reference_impls beside this file

import torch  # noqa: E402

from mmcenternet.utils.benchmark import machine_line, peak_rss, reset_peak_rss  # noqa: E402
from reference_impls import original_exdet_grouping  # noqa: E402

PARTS = ('t', 'l', 'b', 'r')


def make_maps(scenario: str, classes: int, h: int, w: int, seed: int = 0) -> dict:
    """Heat-map probabilities (and offsets) of one image for a scenario."""
    g = torch.Generator().manual_seed(seed)
    if scenario == 'random':
        maps = {}
        for p in PARTS + ('c', ):
            noise = torch.randn(1, classes, h // 4 + 1, w // 4 + 1, generator=g)
            noise = torch.nn.functional.interpolate(noise, size=(h, w), mode='bilinear')
            maps[p] = (noise * 0.8).sigmoid()
    elif scenario == 'trained':
        maps = {p: (torch.randn(1, classes, h, w, generator=g) * 0.7 - 4.5).sigmoid()
                for p in PARTS + ('c', )}
        for _ in range(30):
            cls = int(torch.randint(classes, (1, ), generator=g))
            bw, bh = (int(v) for v in torch.randint(4, min(h, w) // 2, (2, ), generator=g))
            x1 = int(torch.randint(0, w - bw, (1, ), generator=g))
            y1 = int(torch.randint(0, h - bh, (1, ), generator=g))
            x2, y2 = x1 + bw, y1 + bh
            cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
            points = ((cx, y1), (x1, cy), (cx, y2), (x2, cy), (cx, cy))
            for p, (x, y) in zip(PARTS + ('c', ), points):
                maps[p][0, cls, y, x] = float(torch.rand(1, generator=g)) * 0.6 + 0.35
    elif scenario == 'flat':
        maps = {p: torch.zeros(1, 1, h, w) for p in PARTS}
        for p in PARTS:  # 100+ isolated equal peaks per map
            ys = torch.randint(0, h // 2, (150, ), generator=g) * 2
            xs = torch.randint(0, w // 2, (150, ), generator=g) * 2
            maps[p][0, 0, ys, xs] = 0.5
        maps['c'] = torch.full((1, 1, h, w), 0.05)
        maps['c'][0, 0, :, 0] = 0.9
    else:
        raise ValueError(f'unknown scenario {scenario}')
    offsets = {p: torch.rand(1, 2, h, w, generator=g) for p in PARTS}
    return dict(heat=maps, offsets=offsets)


def load_maps(path: str) -> dict:
    """Raw head outputs saved with ``torch.save({'hm_t': ..., 'reg_t': ...})`` (logits)."""
    raw = torch.load(path, map_location='cpu', weights_only=True)
    heat = {p: raw[f'hm_{p}'][:1].float().sigmoid() for p in PARTS + ('c', )}
    offsets = {p: raw[f'reg_{p}'][:1].float() for p in PARTS if f'reg_{p}' in raw}
    return dict(heat=heat, offsets=offsets or None)


def decoder_inputs(data: dict):
    """The raw maps of the export decoder: ``(names, arrays)`` (heat maps as logits)."""
    names = [f'hm_{p}' for p in PARTS + ('c', )]
    arrays = [torch.logit(data['heat'][p]) for p in PARTS + ('c', )]
    if data['offsets']:
        names += [f'reg_{p}' for p in PARTS]
        arrays += [data['offsets'][p] for p in PARTS]
    return names, [a.float().contiguous() for a in arrays]


def export_decoder(args, data: dict, path: str) -> None:
    """Write the export decoder for these maps' branches and channel counts to ``path``."""
    from mmcenternet.models.export_decoders import ExdetDecoder
    from mmcenternet.deployment import export_decoder as export
    names, arrays = decoder_inputs(data)
    export(ExdetDecoder(names, 1, topk=args.topk, kernel=3, stride=1.0, num_dets=args.num_dets),
           arrays, path)


def scenario_maps(args, scenario) -> dict:
    h, w = args.map_size
    return load_maps(args.maps) if args.maps else make_maps(scenario, args.classes, h, w)


def run_onnx(args, data: dict) -> dict:
    """The export decoder in onnxruntime (CPU): median time and peak memory growth."""
    import onnxruntime as ort
    names, arrays = decoder_inputs(data)
    feed = {n: a.numpy() for n, a in zip(names, arrays)}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    base_rss = reset_peak_rss()
    sess = ort.InferenceSession(args.onnx_file, opts, providers=['CPUExecutionProvider'])
    walls, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        sess.run(None, feed)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    peak = (peak_rss() - base_rss) / 1024
    return dict(wall_s=statistics.median(walls), cpu_s=statistics.median(cpus), peak_mb=peak,
                quadruples=args.topk**4, scored=args.topk**4, classes=arrays[0].shape[1],
                map=list(arrays[4].shape[-2:]))


def run_one(args) -> dict:
    """One scenario in this process: median time, peak memory growth, work counts."""
    from mmcenternet.models.task_modules import CenterNetExdetDecoder
    torch.set_num_threads(args.threads)
    data = scenario_maps(args, args.scenario)
    if args.onnx_file:
        out = run_onnx(args, data)
        out['scenario'] = osp.basename(args.maps) if args.maps else args.scenario
        return out
    heat = {p: v.to(args.device) for p, v in data['heat'].items()}
    offs = {p: v.to(args.device) for p, v in data['offsets'].items()} if data['offsets'] else None
    dec = CenterNetExdetDecoder(topk=args.topk, num_dets=args.num_dets, chunk=args.chunk)
    base_rss = reset_peak_rss()
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    walls, cpus = [], []
    for _ in range(args.repeat):
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        if args.original_style:
            original_exdet_grouping(heat, offs, args.topk, args.num_dets)
        else:
            dec.decode(heat, offs)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    peak = (peak_rss() - base_rss) / 1024
    out = dict(scenario=osp.basename(args.maps) if args.maps else args.scenario,
               wall_s=statistics.median(walls), cpu_s=statistics.median(cpus), peak_mb=peak,
               quadruples=args.topk**4, scored=None, classes=heat['t'].shape[1],
               map=list(heat['c'].shape[-2:]))
    if args.device.startswith('cuda'):
        out['gpu_peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
    if not args.original_style:
        out['scored'] = dec.last_stats[0]['scored']
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scenario', choices=('trained', 'random', 'flat', 'all'),
                        default='all')
    parser.add_argument('--maps', help='a torch file of raw head outputs (hm_* logits, reg_*)')
    parser.add_argument('--topk', type=int, default=100, help="peaks per extreme map (K)")
    parser.add_argument('--num-dets', type=int, default=1000)
    parser.add_argument('--classes', type=int, default=80)
    parser.add_argument('--map-size', type=int, nargs=2, default=(112, 168), metavar=('H', 'W'))
    parser.add_argument('--chunk', type=int, default=1 << 20,
                        help='quadruples scored at once (memory bound)')
    parser.add_argument('--repeat', type=int, default=3, help='decodes per scenario (median)')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--original-style', action='store_true',
                        help='materialise all K^4 quadruples like the original (K = 100 needs '
                        'about 8 GB; try --topk 40 first)')
    parser.add_argument('--onnx', action='store_true',
                        help='also run the export decoder (export_onnx.py --with-decoder) in '
                        'onnxruntime on the same maps')
    parser.add_argument('--single', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--onnx-file', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        print(json.dumps(run_one(args)))
        return
    scenarios = [None] if args.maps else (
        ['trained', 'random', 'flat'] if args.scenario == 'all' else [args.scenario])
    print(machine_line(args.device))
    print(f'exdet grouping, K = {args.topk} ({args.topk**4:.2e} quadruples per image), '
          f'{args.num_dets} kept, device {args.device}, {args.threads} thread(s)'
          + (', ORIGINAL-STYLE (all quadruples at once)' if args.original_style else ''))
    print(f'{"scenario":<12}{"backend":<13}{"map":>10}{"wall s":>9}{"cpu s":>8}{"peak MB":>9}'
          f'{"scored":>14}{"scored %":>10}')
    for scenario in scenarios:
        runs = [('PyTorch', None)]
        if args.onnx:  # exported here: the export's own memory stays out of the child's peak
            path = osp.join(tempfile.mkdtemp(), 'exdet_decoder.onnx')
            export_decoder(args, scenario_maps(args, scenario), path)
            runs.append(('onnxruntime', path))
        for backend, onnx_file in runs:
            cmd = [sys.executable, osp.abspath(__file__), '--single'] + \
                [a for a in (argv if argv is not None else sys.argv[1:])
                 if a not in ('--single', '--onnx')]
            if scenario is not None:
                cmd += ['--scenario', scenario]
            if onnx_file:
                cmd += ['--onnx-file', onnx_file]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f'{scenario} ({backend}): failed\n{proc.stderr[-2000:]}')
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            scored = '-' if r['scored'] is None else f'{r["scored"]:,}'
            share = '-' if r['scored'] is None else f'{100 * r["scored"] / r["quadruples"]:.2f}'
            size = 'x'.join(str(v) for v in r['map'])
            print(f'{r["scenario"]:<12}{backend:<13}{size:>10}{r["wall_s"]:>9.3f}'
                  f'{r["cpu_s"]:>8.3f}{r["peak_mb"]:>9.0f}{scored:>14}{share:>10}'
                  + (f'  (GPU peak {r["gpu_peak_mb"]:.0f} MB)' if 'gpu_peak_mb' in r else ''))
    print('Reference, the original exct_decode on 2 CPU threads (golden e2e timing, '
          'DLA-34 exdet, 448x672 input): 17.8-19.4 s per image, 40-48 s per flip pair; about '
          '8 GB per image.')


if __name__ == '__main__':
    main()
