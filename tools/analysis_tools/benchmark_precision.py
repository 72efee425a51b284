# Copyright (c) mmcenternet contributors. All rights reserved.
"""Accuracy and speed of the reduced-precision paths beside float32, in one run.

For DLA-34 and ResNet-DCN-18 (their COCO configs with 4 classes) the tool

1. **trains** each network briefly on the generated shapes data (``make demo``'s generator,
   128 x 128 images; from scratch, size and offset branches initialised as the original's
   DLA-34 heads) unless ``--work-dir`` already holds the weights (``<net>/final.pth``), so that
   the heat maps have real peaks to compare;
2. measures **accuracy** of every path on the validation images: COCO bbox AP, its difference
   to float32, and how many of float32's top-100 raw heat-map peaks (3x3 maxima, class and
   cell) each path also has among its own top 100;
3. measures **speed** at 672 x 448 (a 640 x 425 image, ``--keep_res``), batch 1, the stages
   pre-processing, network, decoding and post-processing, medians of interleaved rounds.

Paths: PyTorch float32 with mmcv's deformable convolution and with the fast one
(:mod:`mmcenternet.ops`), PyTorch bfloat16 (backbone, neck and the heads' regression branches,
with the stem, offset, aggregation and coarse-neck convolutions and the heat-map branches
float32, the default of :mod:`mmcenternet.models.utils.precision`; the same with the heat-map
branches' hidden convolutions bfloat16; and everything bfloat16 that may be), onnxruntime float32
and onnxruntime int8 (``tools/deployment/quantize_onnx.py`` defaults, calibrated on training
images). Heat-map logits, sigmoid and decoding are float32 on every path.

Prints the machine (CPU model and its VNNI / BF16 / AMX flags) and the table; asserts nothing.
Examples:
    python tools/analysis_tools/benchmark_precision.py --work-dir work_dirs/precision
    python tools/analysis_tools/benchmark_precision.py --networks ResNet-DCN-18 --repeats 3
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mmcenternet  # noqa: E402,F401
from mmcenternet.utils.benchmark import Rounds, TestPathStages, fmt_ms, machine_line  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NETWORKS = {'DLA-34': 'configs/centernet/dla34_1x_coco.py',
            'ResNet-DCN-18': 'configs/centernet/resdcn18_1x_coco.py'}
# Short schedules (batch 8, Adam) that give each network real peaks from scratch. DLA-34: in 300
# iterations one seed of two stalled at AP 0.30 (the other 0.57); 600 iterations gave 0.62 and
# 0.64. ResNet-DCN-18 has no skip connections (its 128 x 128 inputs end in a 4 x 4 map) and
# learns more slowly: in 300 iterations at 1e-3 it stayed near AP 0; its heat-map loss after 100
# iterations was lowest at 2.5e-4 of 4e-3 / 1e-3 / 2.5e-4 / 1e-4.
SCHEDULES = {'DLA-34': dict(iters=600, lr=1e-3), 'ResNet-DCN-18': dict(iters=900, lr=2.5e-4)}
PATHS = ("PyTorch fp32, mmcv's DCN", 'PyTorch fp32, fast DCN', 'PyTorch bf16',
         'PyTorch bf16, heat-map bf16', 'PyTorch bf16, whole body', 'onnxruntime fp32',
         'onnxruntime int8')
ORT_PATHS = PATHS[-2:]
BASE = "PyTorch fp32, mmcv's DCN"
REFERENCE = 'PyTorch fp32, fast DCN'  # accuracy reference (same function as mmcv's)
STAGES = ('pre', 'network', 'decode', 'post', 'total')
TARGET = 0.12  # DLA-34 per image, best fast path vs PyTorch + mmcv's DCN, on a VNNI CPU

TRAIN_CONFIG = """
_base_ = ['{base}']
data_root = '{data}/'
metainfo = dict(classes={classes})
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CenterNetRandomAffine', input_size=(128, 128), down_ratio=4, border=32,
         flip_prob=0.5),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor', 'flip', 'flip_direction',
                                          'homography_matrix')),
]
train_dataloader = dict(batch_size={batch}, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, metainfo=metainfo,
                                     ann_file='annotations/train.json',
                                     data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, metainfo=metainfo,
                                   ann_file='annotations/val.json', data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
# from scratch: size/offset branches as the original's DLA-34 heads (ResNet-DCN's N(0, 0.001)
# weights leave the sizes untrained in a few hundred iterations; see the demo config)
model = dict(backbone=dict(init_cfg=None),
             bbox_head=dict(num_classes={num_classes}, branch_init='zero_bias'))
load_from = None
optim_wrapper = dict(optimizer=dict(lr={lr}))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters},
                 val_interval={iters} + 1)
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, begin=0, end={iters},
                        milestones=[{step}], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(by_epoch=False, interval={iters}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed={seed})
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmark_precision',
                        help='data, weights and exported files (weights are reused)')
    parser.add_argument('--networks', nargs='+', default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument('--train-iters', type=int, default=None,
                        help='training iterations of each network (batch --batch; default: '
                        + ', '.join(f'{k} {v["iters"]}' for k, v in SCHEDULES.items()) + ')')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0,
                        help='training seed (a short schedule from scratch: some seeds train '
                        'worse, see docs/speed.md; give each seed its own --work-dir)')
    parser.add_argument('--num-train', type=int, default=400, help='generated training images')
    parser.add_argument('--num-val', type=int, default=100,
                        help='generated validation images (accuracy)')
    parser.add_argument('--num-calib', type=int, default=32,
                        help='training images calibrating the int8 model')
    parser.add_argument('--repeats', type=int, default=5, help='timed rounds (median)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--speed-size', type=int, nargs=2, default=(425, 640), metavar=('H', 'W'),
                        help='speed test image (padded to a multiple of 32: 448 x 672)')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of PyTorch and onnxruntime (default: torch\'s)')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- preparation
def make_data(root: str, num_train: int, num_val: int) -> None:
    from mmcenternet.utils.synthetic.shapes import make_shapes_dataset
    if osp.isfile(osp.join(root, 'annotations', 'val.json')):
        with open(osp.join(root, 'annotations', 'train.json')) as f:
            if len(json.load(f)['images']) == num_train:
                return
    style = dict(class_colours=True, inside=True, size_range=(0.2, 0.5), max_overlap=0.1)
    make_shapes_dataset(root, num_train, (128, 128), seed=0, split='train', **style)
    make_shapes_dataset(root, num_val, (128, 128), seed=1, split='val', **style)


def train(name: str, args, data: str) -> str:
    """Weights of ``name`` trained on ``data`` (reused when present); returns the config."""
    from mmcenternet.utils.synthetic.shapes import SHAPE_CLASSES
    iters = args.train_iters or SCHEDULES[name]['iters']
    out = osp.join(args.work_dir, name)
    os.makedirs(out, exist_ok=True)
    config = osp.join(out, 'config.py')
    with open(config, 'w') as f:
        f.write(TRAIN_CONFIG.format(base=osp.join(REPO, NETWORKS[name]), data=data,
                                    classes=tuple(SHAPE_CLASSES), num_classes=len(SHAPE_CLASSES),
                                    batch=args.batch, iters=iters, lr=SCHEDULES[name]['lr'],
                                    seed=args.seed,
                                    step=max(1, int(iters * 0.8))))
    final = osp.join(out, 'final.pth')
    if osp.isfile(final):
        print(f'{name}: reusing {final}')
        return config
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools/train.py'), config,
                           '--work-dir', out], cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f'training {name} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}')
    os.replace(osp.join(out, f'iter_{iters}.pth'), final)
    print(f'{name}: trained {iters} iterations in '
          f'{(time.perf_counter() - start) / 60:.1f} min -> {final}')
    return config


class Path(TestPathStages):
    """One inference path of a model, stage by stage; ``peaks`` reads the raw heat map."""

    def __init__(self, cfg, model, label: str) -> None:
        super().__init__(cfg, model, 'cpu')
        self.label = label

    def peaks(self, outs, k: int = 100) -> set:
        from mmcenternet.models.utils import peak_cells
        return peak_cells(self.model.bbox_head.last_stack_maps(outs)['hm'], k)


def build_paths(config: str, args, folder: str, calib: List[str]) -> Dict[str, object]:
    """Every path of one trained network; a string where a path is not available."""
    from mmengine.config import Config

    from mmcenternet.apis import load_detector
    from mmcenternet.models.utils import set_inference_precision
    from mmcenternet.models.utils.precision import KEEP_FP32
    ckpt = osp.join(osp.dirname(config), 'final.pth')
    cfg = Config.fromfile(config)
    paths: Dict[str, object] = {}
    keep = {'PyTorch bf16': KEEP_FP32,
            'PyTorch bf16, heat-map bf16': tuple(k for k in KEEP_FP32 if k != 'heat_maps'),
            'PyTorch bf16, whole body': ()}
    for label, impl in ((BASE, 'mmcv'), (REFERENCE, 'auto')) + tuple(
            (label, 'auto') for label in keep):
        # DCNv2Fast with impl='mmcv' is mmcv's op (same weights); 'auto' is the fast one on CPU
        model = load_detector(config, ckpt, device='cpu',
                              cfg_options={'model.neck.dcn_cfg.impl': impl})
        if label in keep:
            set_inference_precision(model, 'bf16', keep_fp32=keep[label])
        paths[label] = Path(cfg, model, label)
    try:
        import onnxruntime  # noqa: F401

        from mmcenternet.deployment.exporter import build_model, export_model
        from mmcenternet.deployment.quantize import calibration_inputs, quantize_onnx
        from mmcenternet.deployment.utils import size_divisor
    except ImportError:
        for label in ORT_PATHS:
            paths[label] = "n/a (onnxruntime missing: pip install -e '.[deploy]')"
        return paths
    fp32 = osp.join(folder, 'model.onnx')
    int8 = osp.join(folder, 'model_int8.onnx')
    export_model(build_model(cfg, ckpt), fp32, dynamic=True, divisor=size_divisor(cfg),
                 what=config)
    quantize_onnx(fp32, int8, calibration_inputs(cfg, calib, len(calib)))
    for label, onnx_file in (('onnxruntime fp32', fp32), ('onnxruntime int8', int8)):
        model = load_detector(config, device='cpu', onnx_file=onnx_file, threads=args.threads)
        paths[label] = Path(cfg, model, label)
    return paths


# ----------------------------------------------------------------------------- accuracy
def accuracy(paths: Dict[str, object], cfg, val_images: List[tuple]) -> Dict[str, dict]:
    """COCO bbox AP and top-100 peak agreement with the float32 reference, per path."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    out: Dict[str, dict] = {}
    ref_peaks: List[set] = []
    for label in (REFERENCE, ) + tuple(p for p in PATHS if p != REFERENCE):
        path = paths.get(label)
        if not isinstance(path, Path):
            continue
        evaluator = Evaluator(cfg.test_evaluator)
        evaluator.dataset_meta = dict(classes=cfg.metainfo['classes'])
        agree = []
        with torch.no_grad():
            for i, (img, img_id) in enumerate(val_images):
                data = path.pre(img)
                data['data_samples'][0].set_metainfo(dict(img_id=img_id))
                outs = path.network(data)
                peaks = path.peaks(outs)
                if label == REFERENCE:
                    ref_peaks.append(peaks)
                else:
                    agree.append(len(peaks & ref_peaks[i]) / max(len(ref_peaks[i]), 1))
                results = path.post(data, path.decode(outs))
                samples = path.model.add_pred_to_datasample(data['data_samples'], results)
                evaluator.process(samples)
        metrics = evaluator.evaluate(len(val_images))
        out[label] = dict(ap=metrics['coco/bbox_mAP'], ap50=metrics['coco/bbox_mAP_50'],
                          peaks=float(np.mean(agree)) if agree else 1.0)
    return out


# ----------------------------------------------------------------------------- speed
def speed(entries: Dict[str, Dict[str, object]], img_path: str, args) -> Rounds:
    rounds = Rounds()
    with torch.no_grad():
        for i in range(args.warmup + args.repeats):
            for name, paths in entries.items():
                for label, p in paths.items():
                    if not isinstance(p, Path):
                        continue
                    rounds.time_stages(f'{name}|{label}', p, img_path)
            if i == args.warmup - 1:
                rounds.times.clear()
    return rounds


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.config import Config

    from benchmark_onnx import make_image
    os.makedirs(args.work_dir, exist_ok=True)
    data = osp.abspath(osp.join(args.work_dir, 'data'))
    make_data(data, args.num_train, args.num_val)
    with open(osp.join(data, 'annotations', 'val.json')) as f:
        val_images = [(osp.join(data, 'val', im['file_name']), im['id'])
                      for im in json.load(f)['images']]
    with open(osp.join(data, 'annotations', 'train.json')) as f:
        calib = [osp.join(data, 'train', im['file_name'])
                 for im in json.load(f)['images'][:args.num_calib]]
    tmp = tempfile.mkdtemp(prefix='benchmark_precision_')
    img_path = make_image(tmp) if tuple(args.speed_size) == (425, 640) else None
    if img_path is None:
        import cv2
        rng = np.random.RandomState(0)
        img_path = osp.join(tmp, 'speed.jpg')
        small = rng.randint(0, 256, (27, 40, 3)).astype(np.uint8)
        cv2.imwrite(img_path, cv2.resize(small, tuple(args.speed_size[::-1])))
    print(f'machine: {machine_line("cpu")}')
    entries, acc = {}, {}
    for name in args.networks:
        config = train(name, args, data)
        cfg = Config.fromfile(config)
        folder = osp.join(args.work_dir, name)
        entries[name] = build_paths(config, args, folder, calib)
        acc[name] = accuracy(entries[name], cfg, val_images)
    rounds = speed(entries, img_path, args)

    print(f'\naccuracy on {len(val_images)} generated validation images (128 x 128); peaks: '
          f'share of the {REFERENCE} top-100 heat-map peaks (class and cell) that each path '
          'also finds')
    print(f'speed: {osp.basename(img_path)} padded to a multiple of 32, batch 1, ms, median of '
          f'{args.repeats} interleaved rounds; x mmcv: total relative to {BASE}')
    print(f'{"network":14s} {"path":27s} {"AP":>6s} {"dAP":>6s} {"AP50":>6s} {"peaks":>6s} ' +
          ' '.join(f'{s:>8s}' for s in STAGES) + f' {"x mmcv":>7s}')
    best = {}
    for name, paths in entries.items():
        base = rounds.median(f'{name}|{BASE}|total')
        ref_ap = acc[name].get(REFERENCE, {}).get('ap')
        for label in PATHS:
            p = paths.get(label)
            if not isinstance(p, Path):
                print(f'{name:14s} {label:27s} {p}')
                continue
            a = acc[name].get(label, {})
            meds = [rounds.median(f'{name}|{label}|{s}') for s in STAGES]
            ratio = meds[-1] / base
            d_ap = (a['ap'] - ref_ap) * 100 if ref_ap is not None else float('nan')
            ok = abs(d_ap) <= 1.0 and a['peaks'] >= 0.95
            if ok and label != BASE and ratio < best.get(name, (9e9, ''))[0]:
                best[name] = ratio, label
            print(f'{name:14s} {label:27s} {a["ap"]:6.3f} {d_ap:+6.1f} {a["ap50"]:6.3f} '
                  f'{a["peaks"]:6.1%} ' + ' '.join(f'{fmt_ms(m):>8s}' for m in meds) +
                  f' {ratio:7.3f}' + ('' if ok else '  (outside the accuracy bound)'))
    print('(dAP in points against the float32 fast-DCN path; accuracy bound: |dAP| <= 1.0 and '
          'peaks >= 95 %)')
    if 'DLA-34' in best:
        ratio, label = best['DLA-34']
        print(f'target: DLA-34 per image <= {TARGET:.2f} x {BASE} on a CPU with VNNI; best path '
              f'within the accuracy bound here: {label}, {ratio:.3f} x: target '
              f'{"met" if ratio <= TARGET else "not met"} in this run')
    elif 'DLA-34' in entries:
        print(f'target: DLA-34 per image <= {TARGET:.2f} x {BASE} on a CPU with VNNI; no '
              'faster path within the accuracy bound here: target not met in this run')


if __name__ == '__main__':
    main()
