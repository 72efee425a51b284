# Copyright (c) mmcenternet contributors. All rights reserved.
"""The GPU report: correctness and speed of CenterNet on an NVIDIA GPU, as one markdown file.

Run on a machine with a GPU (``python tools/analysis_tools/gpu_report.py``); it

1. reports mmcv's compiled ops (``--build-mmcv`` builds mmcv with CUDA ops first, through
   ``tools/misc/setup_env.py`` with ``FORCE_CUDA=1``, when they are missing);
2. checks the golden networks (``../shared/golden/nets``: DLA-34 and ResNet-DCN-18 ctdet, the
   original's weights rebuilt and converted) on the device with both deformable convolutions
   (the fast one and mmcv's kernel), in float32 and float16 (autocast): largest difference to
   the original's float32 outputs, and the share of the top-100 heat-map peaks kept;
3. times DLA-34 and ResNet-DCN-18 inference at 512 x 512: no augmentation, flip (the batch
   doubled) and multi-scale (scales 0.5 ... 1.5, each with its flip), float32 and float16,
   batch 1 and 8; network and decoding (the merge of test-time augmentation is not included);
4. times one training iteration of DLA-34 at the recipe's per-GPU batch (16 images of
   512 x 512, Adam) with and without mixed precision.

Writes ``--out`` (markdown) and prints it. On a CPU-only machine ``--device cpu --quick`` runs
the same code on tiny sizes (what the test suite does); its figures mean nothing.
Examples:
    python tools/analysis_tools/gpu_report.py --out docs/gpu_report.md
    python tools/analysis_tools/gpu_report.py --device cpu --quick --out /tmp/report.md
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from typing import List

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mmcenternet  # noqa: E402,F401
from mmcenternet.utils.benchmark import machine_line, sync  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NETS = OrderedDict([('DLA-34', ('dla_34_ctdet', 'configs/centernet/dla34_1x_coco.py')),
                    ('ResNet-DCN-18', ('resdcn_18_ctdet',
                                       'configs/centernet/resdcn18_1x_coco.py'))])
ORIGINAL_NOTE = ('The original reports DLA-34 no-aug at 19 ms per image (52 FPS) on a TITAN Xp '
                 '(its README, COCO val2017, 512 x 512).')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', help="'cuda' (default) or 'cpu'")
    parser.add_argument('--golden', default=osp.join(osp.dirname(REPO), 'shared', 'golden'),
                        help='golden reference data (default ../shared/golden)')
    parser.add_argument('--out', default='work_dirs/gpu_report.md', help='markdown file')
    parser.add_argument('--repeats', type=int, default=20, help='timed runs (median)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes and one repeat (for testing the script)')
    parser.add_argument('--build-mmcv', action='store_true',
                        help='build mmcv with CUDA ops first if they are missing')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- helpers
def build(config: str, impl: str, device: str):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    cfg.model.neck.dcn_cfg.impl = impl
    return cfg, MODELS.build(cfg.model).to(device)


def median_ms(fn, device: str, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def top_peaks(hm: torch.Tensor, k: int = 100) -> set:
    from mmcenternet.models.utils import peak_cells
    return peak_cells(hm, k)


def golden_weights(golden: str, stem: str, folder: str) -> str:
    """The original's weights of golden network ``stem`` (README section 9 rule), converted."""
    import json

    from mmcenternet.utils.convert_official import convert_checkpoint
    z = np.load(osp.join(golden, 'nets', f'{stem}.npz'))
    with open(osp.join(golden, 'nets', f'manifest_{stem}.json')) as f:
        manifest = json.load(f)
    seed = int(z['weight_seed'])
    sd = OrderedDict()
    for e in manifest['entries']:
        if e['dtype'] == 'int64':
            sd['module.' + e['key']] = torch.tensor(0, dtype=torch.int64)
            continue
        noise = np.random.default_rng(seed + e['i']).standard_normal(size=tuple(e['shape']))
        noise = np.abs(noise) if e['use_abs'] else noise
        sd['module.' + e['key']] = torch.from_numpy(
            (e['offset'] + e['scale'] * noise).astype(np.float32))
    src, dst = osp.join(folder, f'{stem}_orig.pth'), osp.join(folder, f'{stem}.pth')
    torch.save({'epoch': 140, 'state_dict': sd}, src)
    convert_checkpoint(src, dst)
    return dst


# ----------------------------------------------------------------------------- sections
def section_mmcv(args) -> List[str]:
    from mmcenternet.ops.modulated_deform_conv import mmcv_has_cuda_ops
    has = mmcv_has_cuda_ops()
    if not has and args.build_mmcv and args.device.startswith('cuda'):
        env = dict(os.environ, FORCE_CUDA='1')
        subprocess.run([sys.executable, osp.join(REPO, 'tools/misc/setup_env.py'), '--venv',
                        osp.dirname(osp.dirname(sys.executable))], env=env, check=False)
        has = subprocess.run([sys.executable, '-c', 'from mmcenternet.ops.modulated_deform_conv '
                              'import mmcv_has_cuda_ops as f; raise SystemExit(not f())'],
                             cwd=REPO).returncode == 0
    import mmcv
    return ['## mmcv', '', f'mmcv {mmcv.__version__}: CUDA ops {"present" if has else "absent"}'
            + ('' if has else " (mmcv's DCN rows below are skipped on the GPU)"), '']


def section_golden(args, impls: List[str], folder: str) -> List[str]:
    lines = ['## Golden networks on the device', '',
             'Largest absolute difference to the original\'s float32 outputs over all heads, and '
             'the share of the original\'s top-100 heat-map peaks (class and cell) kept.', '',
             '| network | DCN | precision | max abs diff | peaks kept |', '|---|---|---|---|---|']
    for name, (stem, config) in NETS.items():
        path = osp.join(args.golden, 'nets', f'{stem}.npz')
        if not osp.isfile(path):
            lines.append(f'| {name} | - | - | golden data missing ({path}) | - |')
            continue
        z = np.load(path)
        ckpt = golden_weights(args.golden, stem, folder)
        x = torch.from_numpy(z['input']).to(args.device)
        ref_peaks = top_peaks(torch.from_numpy(z['out0_hm']))
        for impl in impls:
            from mmengine.runner import load_checkpoint
            _, model = build(config, impl, args.device)
            load_checkpoint(model, ckpt, map_location=args.device, strict=True, logger='silent')
            model.eval()
            for precision in ('fp32', 'fp16'):
                dtype = torch.float16 if args.device.startswith('cuda') else torch.bfloat16
                label = precision if args.device.startswith('cuda') else 'bf16 (cpu)'
                if precision == 'fp16' and impl == 'mmcv' and not args.device.startswith('cuda'):
                    lines.append(f"| {name} | {impl} | {label} | n/a (mmcv's CPU op has no "
                                 'bfloat16 kernel) | - |')
                    continue
                with torch.no_grad(), torch.autocast(x.device.type, dtype=dtype,
                                                     enabled=precision == 'fp16'):
                    outs = model(x, mode='tensor')
                heads = ('hm', 'wh', 'reg')
                diff = max(float(np.abs(o.float().cpu().numpy() - z[f'out0_{h}']).max())
                           for h, o in zip(heads, outs))
                kept = len(top_peaks(outs[0].cpu()) & ref_peaks) / max(len(ref_peaks), 1)
                lines.append(f'| {name} | {impl} | {label if precision == "fp16" else "fp32"} | '
                             f'{diff:.2e} | {kept:.0%} |')
    return lines + ['']


def section_inference(args, impl: str) -> List[str]:
    size = 64 if args.quick else 512
    scales = (0.5, 0.75, 1.0, 1.25, 1.5)
    lines = ['## Inference', '',
             f'Network + decoding per batch, ms (median of {args.repeats}); input {size} x '
             f'{size}; flip: the batch doubled; multi-scale: scales {scales}, each with its '
             f'flip. DCN: {impl}. {ORIGINAL_NOTE}', '',
             '| network | test | precision | batch 1 | batch 8 |', '|---|---|---|---|---|']
    for name, (_, config) in NETS.items():
        _, model = build(config, impl, args.device)
        model.eval()
        head = model.bbox_head
        for test in ('no-aug', 'flip', 'multi-scale'):
            for precision in ('fp32', 'fp16'):
                row = []
                for batch in (1, 8 if not args.quick else 2):
                    def run(batch=batch, test=test, precision=precision):
                        use = test == 'multi-scale'
                        for s in (scales if use else (1.0, )):
                            side = max(32, int(round(size * s / 32)) * 32)
                            x = torch.randn(batch, 3, side, side, device=args.device)
                            if test != 'no-aug':
                                x = torch.cat([x, x.flip(3)])
                            dtype = torch.float16 if args.device.startswith('cuda') else \
                                torch.bfloat16
                            with torch.no_grad(), torch.autocast(x.device.type, dtype=dtype,
                                                                 enabled=precision == 'fp16'):
                                outs = model(x, mode='tensor')
                            head.decode_outputs(outs)
                    row.append(median_ms(run, args.device, args.repeats,
                                         warmup=1 if args.quick else 3))
                lines.append(f'| {name} | {test} | {precision} | {row[0]:.1f} | {row[1]:.1f} |')
    return lines + ['']


def section_training(args, impl: str) -> List[str]:
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    size, batch = (64, 2) if args.quick else (512, 16)
    _, model = build(NETS['DLA-34'][1], impl, args.device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1.25e-4)
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(batch):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        batch_input_shape=(size, size)))
        xy = torch.rand(8, 2, generator=gen) * size * 0.7
        wh = torch.rand(8, 2, generator=gen) * size * 0.3 + 4
        s.gt_instances = InstanceData(bboxes=torch.cat([xy, xy + wh], 1).to(args.device),
                                      labels=torch.randint(0, 80, (8, ), generator=gen)
                                      .to(args.device))
        samples.append(s)
    x = torch.randn(batch, 3, size, size, device=args.device)
    scaler = torch.amp.GradScaler(enabled=args.device.startswith('cuda'))
    lines = ['## Training', '', f'One DLA-34 iteration (forward, backward, Adam step), batch '
             f'{batch} x {size} x {size}, ms (median of {max(args.repeats // 2, 1)}); DCN: '
             f'{impl}.', '', '| precision | ms per iteration | images / s |', '|---|---|---|']
    for amp in (False, True):
        def step(amp=amp):
            dtype = torch.float16 if args.device.startswith('cuda') else torch.bfloat16
            with torch.autocast(x.device.type, dtype=dtype, enabled=amp):
                losses = model.loss(x, samples)
            loss = sum(v for v in losses.values())
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        ms = median_ms(step, args.device, max(args.repeats // 2, 1), warmup=1 if args.quick else 3)
        lines.append(f'| {"AMP (fp16)" if amp else "fp32"} | {ms:.1f} | {batch * 1000 / ms:.1f} |')
    return lines + ['']


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('gpu_report: no CUDA device is visible (torch.cuda.is_available() is '
                         'False); run it on a GPU machine, or --device cpu --quick to test it')
    if args.quick:
        args.repeats = 1
    from mmcenternet.ops.modulated_deform_conv import mmcv_has_cuda_ops
    lines: List[str] = [f'# GPU report ({time.strftime("%Y-%m-%d")})', '',
                        f'machine: {machine_line(args.device)}', '']
    lines += section_mmcv(args)
    impls = ['fast', 'mmcv'] if (not args.device.startswith('cuda') or mmcv_has_cuda_ops()) \
        else ['fast']
    best = 'mmcv' if 'mmcv' in impls and args.device.startswith('cuda') else 'fast'
    with tempfile.TemporaryDirectory() as folder:
        lines += section_golden(args, impls, folder)
    lines += section_inference(args, best)
    lines += section_training(args, best)
    text = '\n'.join(lines)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.tmp', 'w') as f:
        f.write(text + '\n')
    os.replace(args.out + '.tmp', args.out)
    print(text)
    print(f'\nwritten: {args.out}')


if __name__ == '__main__':
    main()
