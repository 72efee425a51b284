# Copyright (c) mmcenternet contributors. All rights reserved.
"""Training-speed figures of mmcenternet beside baselines run in the same process.

(a) One training iteration (forward, loss, backward, Adam step) of mmcenternet's ResNet-DCN-18
    and of mmdet's own ``centernet_r18-dcnv2`` model, on identical batches.
    ``--config`` adds the iteration of any detection config (e.g. Hourglass-104). Memory: on
    CUDA the peak allocated memory of the iteration; on CPU the tensors training keeps (weights,
    gradients, Adam's two moments, and the activations autograd saves for the backward pass,
    counted once per storage) -- what a GPU must hold besides the allocator's cache and
    cuDNN workspaces.
(b) Target generation for one batch: mmcenternet's batched generator against mmdet's
    ``CenterNetHead.get_targets`` and a plain per-object loop written like the original's
    data-loader code (one Gaussian at a time).

Prints a table; asserts nothing. Example:
    python tools/analysis_tools/benchmark_train.py --size 512 --batch 2 --repeats 3
"""
import argparse
import os.path as osp
import sys
from typing import Callable, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # reference_impls beside this file

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

import mmcenternet  # noqa: E402,F401
from mmcenternet.utils.benchmark import machine_line, timed  # noqa: E402
from reference_impls import loop_targets, mmdet_centernet_config  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def random_batch(batch: int, size: int, objects: int, num_classes: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    boxes, labels = [], []
    for _ in range(batch):
        n = rng.randint(0, objects + 1)
        wh = rng.uniform(4, size / 2, (n, 2))
        xy = rng.uniform(0, size, (n, 2))
        b = np.concatenate([xy - wh / 2, xy + wh / 2], 1).clip(0, size - 1)
        boxes.append(torch.tensor(b, dtype=torch.float32))
        labels.append(torch.tensor(rng.randint(0, num_classes, n)))
    return boxes, labels


def samples_for(boxes, labels, size: int, device: str) -> List[DetDataSample]:
    out = []
    for b, label in zip(boxes, labels):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), batch_input_shape=(size, size),
                                        pad_shape=(size, size), border=[0, size, 0, size]))
        s.gt_instances = InstanceData(bboxes=b.to(device), labels=label.to(device))
        out.append(s)
    return out


def build(cfg_path: str, device: str):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    if 'init_cfg' in cfg.model.backbone:
        cfg.model.backbone.init_cfg = None  # random weights: no download
    cfg.model.pop('data_preprocessor', None)
    model = MODELS.build(cfg.model).to(device).train()
    return model, torch.optim.Adam(model.parameters(), lr=5e-4)


def kept_for_training_gib(model: torch.nn.Module, optim: torch.optim.Optimizer,
                          forward: Callable[[], torch.Tensor]) -> float:
    """GiB of the tensors one training iteration keeps alive at its peak (CPU estimate).

    Weights, their gradients, the optimizer state, and the activations autograd saves during
    ``forward`` (each storage counted once), measured at the end of the forward pass, before
    the backward pass frees them.
    """
    seen, saved = set(), [0]

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            saved[0] += storage.nbytes()
        return t

    params = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    state = sum(v.numel() * v.element_size() for st in optim.state.values()
                for v in st.values() if torch.is_tensor(v))
    optim.zero_grad(set_to_none=False)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = forward()
    loss.backward()
    return (2 * params + buffers + state + saved[0]) / 2**30


def bench_iteration(args) -> None:
    init_default_scope('mmdet')
    inputs = torch.randn(args.batch, 3, args.size, args.size, device=args.device)
    models = [('mmcenternet resdcn18 (original recipe)',
               osp.join(REPO, 'configs/centernet/resdcn18_1x_coco.py')),
              ("mmdet centernet_r18-dcnv2 (mmdet's recipe)", mmdet_centernet_config())]
    if args.skip_baselines:
        models = []
    models += [(osp.splitext(osp.basename(path))[0], path) for path in args.config]
    rows = []
    for name, path in models:
        model, optim = build(path, args.device)
        num_classes = model.bbox_head.num_classes
        boxes, labels = random_batch(args.batch, args.size, args.objects, num_classes)
        samples = samples_for(boxes, labels, args.size, args.device)

        def loss() -> torch.Tensor:
            return sum(model(inputs, samples, mode='loss').values())

        def step():
            optim.zero_grad()
            loss().backward()
            optim.step()

        if args.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        t = timed(step, args.repeats, args.warmup, args.device)
        if args.device == 'cuda':
            mem = f'{torch.cuda.max_memory_allocated() / 2**30:.2f} (peak allocated)'
        else:
            mem = f'{kept_for_training_gib(model, optim, loss):.2f} (kept tensors)'
        rows.append((name, np.median(t), min(t), mem))
        del model, optim
    print(f'\n(a) one training iteration, batch {args.batch} x {args.size}x{args.size}, '
          f'{args.device}, {torch.get_num_threads()} threads, median of {args.repeats}')
    print(f'{"model":45s} {"median s":>10s} {"best s":>10s}  memory GiB')
    for name, med, best, mem in rows:
        print(f'{name:45s} {med:10.3f} {best:10.3f}  {mem}')


def bench_targets(args) -> None:
    from mmdet.models.dense_heads import CenterNetHead
    from mmcenternet.models.task_modules import CenterNetTargetGenerator
    init_default_scope('mmdet')
    out = args.size // 4
    boxes, labels = random_batch(args.target_batch, args.size, args.objects, 80, seed=1)
    dev_boxes = [b.to(args.device) for b in boxes]
    dev_labels = [lab.to(args.device) for lab in labels]
    ours = CenterNetTargetGenerator(max_objs=128)
    mmdet_head = CenterNetHead(in_channels=64, feat_channels=64, num_classes=80).to(args.device)
    feat_shape = (args.target_batch, 80, out, out)
    rows = [
        ('mmcenternet (batched, vectorised)',
         lambda: ours(dev_boxes, dev_labels, 80, (out, out), stride=4)),
        ("mmdet CenterNetHead.get_targets (per-object loop)",
         lambda: mmdet_head.get_targets(dev_boxes, dev_labels, feat_shape, (args.size, args.size))),
        ('per-object numpy loop (original style, CPU)',
         lambda: loop_targets(boxes, labels, 80, out, out)),
    ]
    n_obj = sum(len(b) for b in boxes)
    print(f'\n(b) target generation, batch {args.target_batch} ({n_obj} objects), output '
          f'{out}x{out}, {args.device}, median of {args.repeats * 3}')
    print(f'{"implementation":52s} {"ms/batch":>10s}')
    for name, fn in rows:
        t = timed(fn, args.repeats * 3, args.warmup, args.device)
        print(f'{name:52s} {1000 * np.median(t):10.2f}')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=512, help='input side')
    parser.add_argument('--batch', type=int, default=2, help='batch of the iteration timing')
    parser.add_argument('--target-batch', type=int, default=16, help='batch of target timing')
    parser.add_argument('--objects', type=int, default=20, help='max objects per image')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--skip-iteration', action='store_true')
    parser.add_argument('--config', action='append', default=[],
                        help='also time this detection config (repeatable)')
    parser.add_argument('--skip-baselines', action='store_true',
                        help='time only the --config models in (a)')
    parser.add_argument('--skip-targets', action='store_true', help='skip (b)')
    args = parser.parse_args(argv)
    print(machine_line(args.device))
    if not args.skip_iteration:
        bench_iteration(args)
    if not args.skip_targets:
        bench_targets(args)


if __name__ == '__main__':
    main()
