# Copyright (c) mmcenternet contributors. All rights reserved.
"""Per-image test time of DLA-34 and ResNet-DCN-18: PyTorch against the exported ONNX model.

For each network, in one process, backends interleaved round by round, medians reported:

* PyTorch with mmcv's deformable convolution (``DCNv2``, mmcv's op);
* PyTorch with the package's fastest deformable convolution on this device (``DCNv2Fast`` of
  :mod:`mmcenternet.ops` when installed, ``n/a`` otherwise);
* onnxruntime (CPU provider) on the model exported by ``tools/deployment/export_onnx.py``
  (standard ``DeformConv``); on a machine with a GPU also onnxruntime's CUDA provider, and
  TensorRT's when onnxruntime has it, and PyTorch on the GPU.

Every backend runs the same test path (``--keep_res``: a 640 x 425 image padded to 672 x 448,
batch 1), split into pre-processing (loading, padding, normalisation), network, decoding (sigmoid,
3x3 peak test, top-K, gathers) and post-processing (boxes back to the image); only the network
differs. The weights are random (with random offset predictors, so that the sampling is really
deformable); speed does not depend on their values. Asserts nothing; prints a table. Example:
    python tools/analysis_tools/benchmark_onnx.py
    python tools/analysis_tools/benchmark_onnx.py --repeats 10 --image photo.jpg
"""
import argparse
import os.path as osp
import sys
import tempfile
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmcenternet  # noqa: E402,F401
from mmcenternet.deployment.utils import INSTALL_HINT  # noqa: E402
from mmcenternet.utils.benchmark import (Rounds, TestPathStages, fmt_ms,  # noqa: E402
                                         machine_line)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NETWORKS = (('DLA-34', osp.join(REPO, 'configs/centernet/dla34_1x_coco.py')),
            ('ResNet-DCN-18', osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py')))
STAGES = ('pre', 'network', 'decode', 'post', 'total')
TARGET = 0.3  # DLA-34 through onnxruntime vs PyTorch with mmcv's DCN, on the CPU


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--image', help='test image (default: a generated 640 x 425 JPEG)')
    parser.add_argument('--repeats', type=int, default=5, help='timed rounds (median)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed rounds first')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of PyTorch and onnxruntime (default: torch\'s)')
    parser.add_argument('--networks', nargs='+', default=[n for n, _ in NETWORKS],
                        choices=[n for n, _ in NETWORKS])
    return parser.parse_args(argv)


def make_image(folder: str) -> str:
    import cv2
    rng = np.random.RandomState(0)
    small = rng.randint(0, 256, (27, 40, 3)).astype(np.uint8)
    path = osp.join(folder, 'benchmark_640x425.jpg')
    cv2.imwrite(path, cv2.resize(small, (640, 425), interpolation=cv2.INTER_CUBIC))
    return path


def fastest_dcn() -> Optional[str]:
    """The registered name of the package's own fast deformable convolution, if installed."""
    try:
        from mmcenternet.ops import FastModulatedDeformConv2dPack  # noqa: F401
    except ImportError:
        return None
    from mmengine.registry import MODELS
    return 'DCNv2Fast' if 'DCNv2Fast' in MODELS.module_dict else None


def build(cfg_path: str, dcn: Optional[dict], device: str, state=None):
    """The config's model with deformable convolutions of type ``dcn`` (None: as configured)."""
    from mmengine.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    cfg.model.backbone.init_cfg = None
    if dcn is not None and 'dcn_cfg' in cfg.model.neck:
        keep = {k: v for k, v in cfg.model.neck.dcn_cfg.items() if k == 'deform_groups'}
        cfg.model.neck.dcn_cfg = dict(dcn, **keep)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    if state is None:
        gen = torch.Generator().manual_seed(0)
        for m in model.modules():
            if isinstance(getattr(m, 'conv_offset', None), torch.nn.Conv2d):
                w = m.conv_offset.weight
                w.data.copy_(torch.randn(w.shape, generator=gen) * 0.01)
    else:
        model.load_state_dict(state)
    return cfg, model.eval().to(device)


class TestPath(TestPathStages):
    """The test path of ``model``, stage by stage (see :class:`TestPathStages`)."""

    def __init__(self, cfg, model, device: str) -> None:
        super().__init__(cfg, model, device)


def onnxruntime_path(cfg, onnx_file: str, provider: str, threads: int, device: str):
    from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model
    # TensorRT leaves the nodes it has no kernel for to the CUDA provider
    providers = [provider] + (['CUDAExecutionProvider'] if 'Tensorrt' in provider else [])
    model = build_onnxruntime_model(onnx_file, cfg.model, providers=providers,
                                    config_name=cfg.filename, threads=threads)
    if model.backbone.engine.get_providers()[0] != provider:
        return None
    return TestPath(cfg, model, device)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    try:
        import onnx
        import onnxruntime as ort
        ort_info = f'onnx {onnx.__version__}, onnxruntime {ort.__version__}'
        providers = ort.get_available_providers()
    except ImportError:
        print(f'onnx / onnxruntime are not installed; install the deploy extra: {INSTALL_HINT}')
        ort_info, providers = None, []
    from mmcenternet.deployment.exporter import export_model
    from mmcenternet.deployment.utils import size_divisor
    gpu = torch.cuda.is_available()
    fast = fastest_dcn()
    tmp = tempfile.mkdtemp(prefix='benchmark_onnx_')
    img_path = args.image or make_image(tmp)
    print(f'machine: {machine_line("cpu")}; {threads} threads for PyTorch and onnxruntime'
          f'{"; " + ort_info if ort_info else ""}')
    if gpu:
        print(f'GPU: {torch.cuda.get_device_name(0)}; onnxruntime providers: {providers}')
    entries = []  # (network, label, TestPath or None with a reason)
    for name, path in NETWORKS:
        if name not in args.networks:
            continue
        cfg, model = build(path, dict(type='DCNv2'), 'cpu')
        state = model.state_dict()
        entries.append((name, "PyTorch, mmcv's DCN (cpu)", TestPath(cfg, model, 'cpu')))
        if fast:
            cfg_f, model_f = build(path, dict(type=fast, impl='auto'), 'cpu', state)
            entries.append((name, f'PyTorch, {fast} (cpu)', TestPath(cfg_f, model_f, 'cpu')))
        else:
            entries.append((name, 'PyTorch, fastest DCN (cpu)', 'n/a (no faster DCN installed)'))
        if gpu:
            cfg_g, model_g = build(path, dict(type='DCNv2'), 'cuda', state)
            entries.append((name, "PyTorch, mmcv's DCN (cuda)", TestPath(cfg_g, model_g, 'cuda')))
            if fast:
                cfg_g, model_g = build(path, dict(type=fast, impl='auto'), 'cuda', state)
                entries.append((name, f'PyTorch, {fast} (cuda)', TestPath(cfg_g, model_g, 'cuda')))
        if ort_info is None:
            entries.append((name, 'onnxruntime', f'n/a ({INSTALL_HINT})'))
            continue
        onnx_file = osp.join(tmp, f'{name}.onnx')
        start = time.perf_counter()
        export_model(model, onnx_file, shape=(448, 672), dynamic=True, divisor=size_divisor(cfg),
                     what=path)
        print(f'{name}: exported {onnx_file} in {time.perf_counter() - start:.1f} s')
        for provider, device in (('CPUExecutionProvider', 'cpu'), ('CUDAExecutionProvider', 'cuda'),
                                 ('TensorrtExecutionProvider', 'cuda')):
            label = f'onnxruntime, {provider.replace("ExecutionProvider", "")}'
            if provider not in providers:
                if device == 'cpu' or gpu:
                    entries.append((name, label, 'n/a (provider not available)'))
                continue
            try:
                entry = onnxruntime_path(cfg, onnx_file, provider, threads, device)
            except Exception as exc:  # noqa: BLE001  (a provider that fails to start)
                entry = f'n/a ({type(exc).__name__}: {str(exc).splitlines()[0][:60]})'
            entries.append((name, label, entry or 'n/a (provider fell back to another)'))
    rounds = Rounds()  # each path synchronises its own device (p.sync)
    with torch.no_grad():
        for i in range(args.warmup + args.repeats):
            for name, label, p in entries:
                if isinstance(p, str):
                    continue
                rounds.time_stages(f'{name}|{label}', p, img_path)
            if i == args.warmup - 1:
                rounds.times.clear()
    print(f'\nper-image test time, {osp.basename(img_path)} padded to 672 x 448 (--keep_res), '
          f'batch 1; ms, median of {args.repeats} interleaved rounds')
    print(f'{"network":14s} {"backend":34s} ' + ' '.join(f'{s:>8s}' for s in STAGES) +
          f' {"x mmcv":>7s}')
    ratios = {}
    for name, label, p in entries:
        base = rounds.median(f"{name}|PyTorch, mmcv's DCN (cpu)|total")
        if isinstance(p, str):
            print(f'{name:14s} {label:34s} {p}')
            continue
        meds = [rounds.median(f'{name}|{label}|{s}') for s in STAGES]
        ratios[(name, label)] = meds[-1] / base
        print(f'{name:14s} {label:34s} ' + ' '.join(f'{fmt_ms(m):>8s}' for m in meds) +
              f' {meds[-1] / base:7.2f}')
    print("(x mmcv: total per-image time relative to PyTorch with mmcv's DCN on the CPU)")
    got = ratios.get(('DLA-34', 'onnxruntime, CPU'))
    if got is not None:
        print(f'target: DLA-34 through onnxruntime (CPU) <= {TARGET:.2f} x PyTorch with mmcv\'s '
              f'DCN; measured {got:.2f} x ({"met" if got <= TARGET else "NOT met"})')


if __name__ == '__main__':
    main()
