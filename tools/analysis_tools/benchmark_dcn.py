# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deformable-convolution speed: mmcenternet's fast implementation against mmcv's op.

Everything runs in one process on one device, the implementations interleaved round by round,
and every figure is a median:

(a) One modulated deformable convolution (default 64 -> 64, 3x3, 128 x 168, batch 1; offsets and
    mask given): mmcv's op, mmcenternet's, and onnxruntime's standard ``DeformConv`` kernel when
    ``onnx`` and ``onnxruntime`` are importable; forward, and forward + backward (gradients of the
    input, offsets, mask, weight and bias). A plain convolution of the same shape for scale.
(b) All DCN layers of DLA-34 and ResNet-DCN-18 at the test input size, each with the inputs it
    gets in the network: summed forward and forward + backward times.
(c) Per-image test time of DLA-34 and ResNet-DCN-18 (``--keep_res``: a 640 x 425 image is padded to
    672 x 448, batch 1) with each DCN, split into pre-processing (loading, padding, packing,
    normalisation), network, decode (sigmoid, 3x3 peak test, top-K, gathers) and post-processing
    (boxes back to the image, result structure); mmdet's ``centernet_r18-dcnv2`` config (its own
    pipeline and head, mmcv's DCN) as a peer.
(d) One DLA-34 training iteration (forward, losses, backward, Adam step) at batch 2, 512 x 512.

Asserts nothing; prints tables. The networks have random weights (with random offset
predictors, so that the sampling is really deformable); speed does not depend on the values.
Example:
    python tools/analysis_tools/benchmark_dcn.py                    # everything, CPU
    python tools/analysis_tools/benchmark_dcn.py --sections a c     # layer and test time only
    python tools/analysis_tools/benchmark_dcn.py --device cuda
"""
import argparse
import os.path as osp
import sys
import tempfile
import time
from typing import Optional, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # reference_impls beside this file

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmcenternet  # noqa: E402,F401
from mmcenternet.ops import (FastModulatedDeformConv2dPack, choose_impl,  # noqa: E402
                             modulated_deform_conv2d_fast)
from mmcenternet.utils.benchmark import (Rounds, TestPathStages, fmt_ms,  # noqa: E402
                                         machine_line, sync)
from reference_impls import (MMDetCenterNet, mmcv_deform_conv,  # noqa: E402
                             mmdet_centernet_config)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DLA34 = osp.join(REPO, 'configs/centernet/dla34_1x_coco.py')
RESDCN18 = osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py')
IMPLS = ('mmcv', 'fast')
IMPL_NAMES = {'mmcv': "mmcv's op", 'fast': 'mmcenternet fast'}


def randomise_offsets(model: torch.nn.Module, seed: int = 0, std: float = 0.01) -> None:
    """Give every offset predictor random weights (zero-initialised ones sample a plain grid)."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(getattr(m, 'conv_offset', None), torch.nn.Conv2d):
            w = m.conv_offset.weight
            w.data.copy_(torch.randn(w.shape, generator=gen) * std)


def set_impl(model: torch.nn.Module, impl: str) -> int:
    n = 0
    for m in model.modules():
        if isinstance(m, FastModulatedDeformConv2dPack):
            m.impl = impl
            n += 1
    return n


OPS = {'mmcv': mmcv_deform_conv, 'fast': modulated_deform_conv2d_fast}


def run_op(impl: str, args: Sequence, backward: bool, grad: Optional[torch.Tensor] = None):
    x, offset, mask, weight, bias, stride, padding, dilation, dg = args
    if not backward:
        with torch.no_grad():
            return OPS[impl](x, offset, mask, weight, bias, stride, padding, dilation, dg)
    leaves = [t.detach().requires_grad_() for t in (x, offset, mask, weight, bias)]
    out = OPS[impl](*leaves, stride, padding, dilation, dg)
    out.backward(grad)
    return [t.grad for t in leaves]


# ------------------------------------------------------------------------ onnxruntime column
def onnxruntime_layer(args: Sequence, threads: int):
    """A callable running the layer with onnxruntime's ``DeformConv``, or a reason why not."""
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None, 'n/a (pip install onnx onnxruntime)'
    x, offset, mask, weight, bias, stride, padding, dilation, dg = args
    if x.device.type != 'cpu':
        return None, 'n/a (CPU only here)'
    kh, kw = weight.shape[2:]
    with torch.no_grad():
        ref = mmcv_deform_conv(*args)
    node = helper.make_node(
        'DeformConv', ['X', 'W', 'offset', 'B', 'mask'], ['Y'], kernel_shape=[kh, kw],
        strides=list(stride), pads=[padding[0], padding[1], padding[0], padding[1]],
        dilations=list(dilation), group=1, offset_group=dg)

    def value(name, t):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(t.shape))

    graph = helper.make_graph(
        [node], 'deform_conv', [value('X', x), value('offset', offset), value('mask', mask)],
        [value('Y', ref)], initializer=[
            numpy_helper.from_array(weight.detach().numpy(), 'W'),
            numpy_helper.from_array(bias.detach().numpy(), 'B')
        ])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 19)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=['CPUExecutionProvider'])
    except Exception as e:  # noqa: BLE001  (an onnxruntime without DeformConv)
        return None, f'n/a ({type(e).__name__}: {str(e).splitlines()[0][:60]})'
    feeds = {'X': x.numpy(), 'offset': offset.numpy(), 'mask': mask.numpy()}
    return (lambda: sess.run(None, feeds)[0]), onnx.__version__ + ' / ' + ort.__version__


# ----------------------------------------------------------------------------- (a) one layer
def bench_layer(args) -> None:
    c_in, c_out, h, w = args.layer
    dev = args.device
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, c_in, h, w, generator=gen).to(dev)
    offset = (torch.randn(1, 18, h, w, generator=gen) * 2).to(dev)
    mask = torch.rand(1, 9, h, w, generator=gen).to(dev)
    weight = (torch.randn(c_out, c_in, 3, 3, generator=gen) / (3 * c_in**0.5)).to(dev)
    bias = torch.randn(c_out, generator=gen).to(dev)
    op_args = (x, offset, mask, weight, bias, (1, 1), (1, 1), (1, 1), 1)
    grad = torch.randn(1, c_out, h, w, generator=gen).to(dev)
    ort_fn, ort_info = onnxruntime_layer(op_args, torch.get_num_threads())

    with torch.no_grad():
        ref = mmcv_deform_conv(*op_args)
        diffs = {'fast': (modulated_deform_conv2d_fast(*op_args) - ref).abs().max().item()}
        if ort_fn is not None:
            diffs['onnxruntime'] = float(np.abs(ort_fn() - ref.cpu().numpy()).max())
    scale = ref.abs().max().item()
    r = Rounds(dev)
    conv = torch.nn.functional.conv2d
    for i in range(args.warmup + args.repeats):
        for impl in IMPLS:
            r.time(f'{impl} fwd', lambda: run_op(impl, op_args, False))
            if i < args.warmup + args.layer_bwd_repeats:
                r.time(f'{impl} fwd+bwd', lambda: run_op(impl, op_args, True, grad))
        if ort_fn is not None:
            r.time('onnxruntime fwd', ort_fn)
        with torch.no_grad():
            r.time('conv fwd', lambda: conv(x, weight, bias, padding=1))
        if i == args.warmup - 1:
            r.times.clear()
    base_f, base_b = r.median('mmcv fwd'), r.median('mmcv fwd+bwd')
    print(f'\n(a) one modulated deformable convolution {c_in} -> {c_out}, 3x3, {h} x {w}, batch 1 '
          f'(offsets ~ N(0, 2^2) px), {dev}; ms, median (best) of {args.repeats} forward, '
          f'{args.layer_bwd_repeats} forward + backward')
    print(f'{"implementation":40s} {"forward":>15s} {"x mmcv":>6s} {"fwd+bwd":>15s} {"x mmcv":>6s} '
          f'{"max|diff|/max|out|":>18s}')
    rows = [("mmcv's op (mmcv.ops)", 'mmcv', '-'),
            ('mmcenternet fast (mmcenternet.ops)', 'fast', f'{diffs["fast"] / scale:.1e}')]
    if ort_fn is not None:
        rows.append((f'onnxruntime DeformConv ({ort_info})', 'onnxruntime',
                     f'{diffs["onnxruntime"] / scale:.1e}'))
    rows.append(('plain conv2d, same shape (for scale)', 'conv', '-'))
    for label, impl, diff in rows:
        f, b = r.median(f'{impl} fwd'), r.median(f'{impl} fwd+bwd')
        fb = f'{fmt_ms(b)} ({fmt_ms(r.best(f"{impl} fwd+bwd"))})' if b == b else 'n/a'
        fb_ratio = f'{base_b / b:6.1f}' if b == b else f'{"":6s}'
        print(f'{label:40s} {fmt_ms(f) + " (" + fmt_ms(r.best(f"{impl} fwd")) + ")":>15s} '
              f'{base_f / f:6.1f} {fb:>15s} {fb_ratio} {diff:>18s}')
    if ort_fn is None:
        print(f'{"onnxruntime DeformConv":40s} {ort_info}')


# ------------------------------------------------------------------------- model building
def build_model(cfg_path: str, device: str, impl: Optional[str] = None, train: bool = False):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    cfg.model.backbone.init_cfg = None
    if impl is not None:
        cfg.model.neck.dcn_cfg.impl = impl
    torch.manual_seed(0)  # the same weights for every DCN implementation
    model = MODELS.build(cfg.model)
    randomise_offsets(model)
    return cfg, model.to(device).train(train)


def test_image(path: Optional[str], folder: str) -> str:
    if path:
        return path
    import cv2
    rng = np.random.RandomState(0)
    # a smooth random picture of COCO's typical size (640 x 425), saved as JPEG like COCO
    small = rng.randint(0, 256, (27, 40, 3)).astype(np.uint8)
    img = cv2.resize(small, (640, 425), interpolation=cv2.INTER_CUBIC)
    out = osp.join(folder, 'benchmark_640x425.jpg')
    cv2.imwrite(out, img)
    return out


# ---------------------------------------------------------------------- (b) network layers
def bench_network_layers(args) -> None:
    dev = args.device
    print(f'\n(b) the DCN layers of the networks with their own inputs (672 x 448 test input, '
          f'batch 1), {dev}; ms summed over the layers, median (best) of {args.repeats} forward, '
          f'{args.layer_bwd_repeats} forward + backward')
    print(f'{"network":14s} {"layers":>6s} {"DCN":18s} {"forward":>15s} {"x mmcv":>6s} '
          f'{"fwd+bwd":>17s} {"x mmcv":>6s}')
    for name, path in (('DLA-34', DLA34), ('ResNet-DCN-18', RESDCN18)):
        _, model = build_model(path, dev, 'mmcv')
        captured = []

        def hook(mod, inputs, _captured=captured):
            x = inputs[0].detach()
            with torch.no_grad():
                out = mod.conv_offset(x)
                n_off = 2 * mod.deform_groups * mod.kernel_size[0] * mod.kernel_size[1]
                _captured.append((x, out[:, :n_off].contiguous(), out[:, n_off:].sigmoid(),
                                  mod.weight.detach(),
                                  mod.bias.detach() if mod.bias is not None else
                                  torch.zeros(mod.out_channels, device=x.device), mod.stride,
                                  mod.padding, mod.dilation, mod.deform_groups))

        handles = [m.register_forward_pre_hook(hook) for m in model.modules()
                   if isinstance(m, FastModulatedDeformConv2dPack)]
        with torch.no_grad():
            model(torch.randn(1, 3, 448, 672, device=dev), mode='tensor')
        for hnd in handles:
            hnd.remove()
        grads = [torch.randn(run_op('mmcv', a, False).shape, device=dev) for a in captured]
        r = Rounds(dev)
        for i in range(args.warmup + args.repeats):
            for impl in IMPLS:
                r.time(f'{impl} fwd', lambda: [run_op(impl, a, False) for a in captured])
                if i < args.warmup + args.layer_bwd_repeats:
                    r.time(f'{impl} fwd+bwd',
                           lambda: [run_op(impl, a, True, g) for a, g in zip(captured, grads)])
            if i == args.warmup - 1:
                r.times.clear()
        for impl in IMPLS:
            f, b = r.median(f'{impl} fwd'), r.median(f'{impl} fwd+bwd')
            fs = f'{fmt_ms(f)} ({fmt_ms(r.best(f"{impl} fwd"))})'
            bs = f'{fmt_ms(b)} ({fmt_ms(r.best(f"{impl} fwd+bwd"))})'
            print(f'{name:14s} {len(captured):6d} {IMPL_NAMES[impl]:18s} {fs:>15s} '
                  f'{r.median("mmcv fwd") / f:6.1f} {bs:>17s} {r.median("mmcv fwd+bwd") / b:6.1f}')
        del model, captured


# ----------------------------------------------------------------- (c) per-image test time
class OursPipeline(TestPathStages):
    """mmcenternet's test path, stage by stage (see :class:`TestPathStages`)."""

    def __init__(self, cfg, model) -> None:
        super().__init__(cfg, model, next(model.parameters()).device)


class MMDetPipeline(OursPipeline):
    """mmdet's own CenterNet (:class:`reference_impls.MMDetCenterNet`) in the same stages."""

    def __init__(self, cfg, device: str) -> None:
        self.peer = MMDetCenterNet(cfg, device)
        self.model = self.peer.model
        self.name = self.peer.name
        self.stages = dict(self.peer.steps)

    def pre(self, img_path: str):
        inputs, samples = self.stages['pre'](cv2.imread(img_path))
        return dict(inputs=inputs, data_samples=samples)

    def network(self, data):
        return self.stages['net']((data['inputs'], data['data_samples']))[0]

    def decode(self, outs):
        return outs

    def post(self, data, decoded):
        dec = self.stages['dec']((decoded, data['data_samples']))
        return self.stages['post'](dec)


def bench_test_time(args, img_path: str) -> None:
    dev = args.device
    entries = []
    for name, path in (('DLA-34', DLA34), ('ResNet-DCN-18', RESDCN18)):
        for impl in IMPLS:
            cfg, model = build_model(path, dev, impl)
            entries.append((f'{name}, {IMPL_NAMES[impl]}', OursPipeline(cfg, model)))
    if osp.exists(mmdet_centernet_config()):
        cfg, _ = build_model(DLA34, dev)  # not a ResNet: mmdet's R18-DCNv2 as it configures it
        entries.append(("mmdet centernet_r18-dcnv2 (mmcv's op)", MMDetPipeline(cfg, dev)))
    r = Rounds(dev)
    scores = {}
    stages = ('pre', 'network', 'decode', 'post', 'total')
    with torch.no_grad():
        for i in range(args.warmup + args.repeats):
            for label, p in entries:
                t0 = time.perf_counter()
                data = r.time(f'{label}|pre', lambda: p.pre(img_path))
                data['inputs'] = data['inputs'].to(dev)
                outs = r.time(f'{label}|network', lambda: p.network(data))
                decoded = r.time(f'{label}|decode', lambda: p.decode(outs))
                results = r.time(f'{label}|post', lambda: p.post(data, decoded))
                if i == 0 and not isinstance(p, MMDetPipeline):
                    scores[label] = results[0].scores
                sync(dev)
                r.add(f'{label}|total', time.perf_counter() - t0)
            if i == args.warmup - 1:
                r.times.clear()
    print(f'\n(c) per-image test time, {osp.basename(img_path)} padded to 672 x 448 (--keep_res), '
          f'batch 1, {dev}; ms, median of {args.repeats} (best: the fastest image)')
    print(f'{"model, DCN":40s} ' + ' '.join(f'{s:>8s}' for s in stages) +
          f' {"x mmcv":>6s} {"best":>8s}')
    for label, _ in entries:
        meds = [r.median(f'{label}|{s}') for s in stages]
        base = label.replace(IMPL_NAMES['fast'], IMPL_NAMES['mmcv'])
        ratio = (f'{meds[-1] / r.median(base + "|total"):6.2f}'
                 if base != label and f'{base}|total' in r.times else f'{"":6s}')
        print(f'{label:40s} ' + ' '.join(f'{fmt_ms(m):>8s}' for m in meds) +
              f' {ratio} {fmt_ms(r.best(f"{label}|total")):>8s}')
    print('(x mmcv: total relative to the same network with mmcv\'s op; the peer decodes its '
          'maps with its head\'s _decode_heatmap in `post`)')
    for label in scores:
        base = label.replace(IMPL_NAMES['fast'], IMPL_NAMES['mmcv'])
        if base != label and base in scores:
            diff = (scores[label] - scores[base]).abs().max().item()
            print(f'{label.split(",")[0]}: the top-{len(scores[label])} scores of the two DCNs '
                  f'differ by at most {diff:.1e}')


# ------------------------------------------------------------------ (d) training iteration
def random_targets(batch: int, size: int, seed: int = 0):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    rng = np.random.RandomState(seed)
    samples = []
    for _ in range(batch):
        n = rng.randint(1, 21)
        wh = rng.uniform(8, size / 2, (n, 2))
        xy = rng.uniform(0, size, (n, 2))
        boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1).clip(0, size - 1)
        s = DetDataSample(metainfo=dict(img_shape=(size, size), batch_input_shape=(size, size),
                                        pad_shape=(size, size), border=[0, size, 0, size]))
        s.gt_instances = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                                      labels=torch.tensor(rng.randint(0, 80, n)))
        samples.append(s)
    return samples


def bench_train(args) -> None:
    dev = args.device
    size, batch = args.train_size, args.train_batch
    inputs = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    inputs = inputs.to(dev)
    samples = [s.to(dev) for s in random_targets(batch, size)]
    runs = {}
    for impl in IMPLS:
        _, model = build_model(DLA34, dev, impl, train=True)
        runs[impl] = (model, torch.optim.Adam(model.parameters(), lr=5e-4))
    r = Rounds(dev)
    losses = {}

    def step(impl):
        model, optim = runs[impl]
        optim.zero_grad()
        loss = model(inputs, samples, mode='loss')
        total = sum(v for v in loss.values())
        total.backward()
        optim.step()
        losses.setdefault(impl, float(total.detach()))

    for i in range(args.train_warmup + args.train_repeats):
        for impl in IMPLS:
            r.time(impl, lambda: step(impl))
        if i == args.train_warmup - 1:
            r.times.clear()
    print(f'\n(d) one DLA-34 training iteration (forward, losses, backward, Adam), batch {batch} x '
          f'{size} x {size}, {dev}; s, median of {args.train_repeats}')
    print(f'{"DCN":18s} {"s / iter":>9s} {"x mmcv":>7s} {"best":>7s} {"first loss":>11s}')
    for impl in IMPLS:
        t = r.median(impl)
        print(f'{IMPL_NAMES[impl]:18s} {t:9.2f} {t / r.median("mmcv"):7.2f} {r.best(impl):7.2f} '
              f'{losses[impl]:11.5f}')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch default)')
    parser.add_argument('--sections', nargs='+', default=['a', 'b', 'c', 'd'],
                        choices=['a', 'b', 'c', 'd'])
    parser.add_argument('--layer', type=int, nargs=4, default=[64, 64, 128, 168],
                        metavar=('C_IN', 'C_OUT', 'H', 'W'), help='shape of the layer in (a)')
    parser.add_argument('--img', help='test image for (c) (default: a synthetic 640 x 425 JPEG)')
    parser.add_argument('--repeats', type=int, default=7, help='timed rounds of (a) - (c)')
    parser.add_argument('--layer-bwd-repeats', type=int, default=3,
                        help="rounds with forward + backward in (a), (b) (mmcv's is slow)")
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--train-size', type=int, default=512)
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument('--train-repeats', type=int, default=2)
    parser.add_argument('--train-warmup', type=int, default=1)
    args = parser.parse_args(argv)
    args.layer_bwd_repeats = min(args.layer_bwd_repeats, args.repeats)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmdet')
    print(machine_line(args.device))
    print(f"DCNv2Fast impl='auto' runs: {choose_impl('auto', torch.device(args.device).type)}")
    with tempfile.TemporaryDirectory() as tmp:
        if 'a' in args.sections:
            bench_layer(args)
        if 'b' in args.sections:
            bench_network_layers(args)
        if 'c' in args.sections:
            bench_test_time(args, test_image(args.img, tmp))
        if 'd' in args.sections:
            bench_train(args)


if __name__ == '__main__':
    main()
