# Copyright (c) mmcenternet contributors. All rights reserved.
"""Per-image inference time of a detection config, split as the original CenterNet reports it.

Stages (milliseconds per image, batch 1, the test path of ``tools/test.py`` without flip):

* ``load``: reading the image file (``cv2.imread``);
* ``pre``: test pipeline and data pre-processor (padding, normalisation, copy to the device);
* ``net``: the network (backbone, neck and head convolutions);
* ``dec``: decoding the maps (sigmoid, 3x3 peak test, top-K, boxes in input pixels);
* ``post``: boxes back to the image and the per-image result;

then ``total`` and images per second (``1000 / total``). Each image runs ``--repeats`` times after
``--warmup`` untimed runs; on a GPU every stage ends with a synchronisation.

Beside it, in the same process, on the same images, with the same split, the tool times a
baseline: mmdet's own CenterNet (``mmdet::centernet/centernet_r18-dcnv2_8xb16-crop512-140e_coco.py``
with its own test pipeline, head and decoding). For configs built from a ResNet and a
``CTResNetNeck``-style neck (the ResDCN configs, the demo) the baseline gets the same backbone,
neck and head sizes (mmdet's ``CTResNetNeck``, with mmcv's DCNv2 where ours has DCN), so that
only the implementations differ; for other networks it is mmdet's R18-DCNv2 model as mmdet
configures it, for reference. Weights are random where no checkpoint is given (the time does
not depend on them).

Examples:
    python tools/analysis_tools/benchmark_speed.py configs/demo/ctdet_r18_shapes.py \\
        --checkpoint work_dirs/demo/epoch_12.pth
    python tools/analysis_tools/benchmark_speed.py configs/centernet/resdcn18_1x_coco.py \\
        --images data/coco/val2017 --num-images 50 --device cuda
    python tools/analysis_tools/benchmark_speed.py configs/centernet/dla34_2x_coco.py \\
        --random-images --size 512 512 --baseline none
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # reference_impls beside this file

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.benchmark import machine_line, sync  # noqa: E402
from mmcenternet.utils.cli import UserError, load_config, run_cli  # noqa: E402
from reference_impls import MMDET_CENTERNET, MMDetCenterNet, load_image  # noqa: E402

STAGES = ('load', 'pre', 'net', 'dec', 'post')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time inference per stage (load / pre / net / dec / post) and images/s')
    parser.add_argument('config', help='detection config file')
    parser.add_argument('--checkpoint', help='checkpoint (default: random weights)')
    parser.add_argument('--images', help='image file or folder (default: the config\'s test '
                        'images if present, else random images of --size)')
    parser.add_argument('--num-images', type=int, default=20, help='images to time')
    parser.add_argument('--size', type=int, nargs=2, default=(512, 512), metavar=('W', 'H'),
                        help='size of the random images used when there are no image files')
    parser.add_argument('--random-images', action='store_true',
                        help='time random images of --size even if image files exist')
    parser.add_argument('--warmup', type=int, default=5, help='untimed runs before timing')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs of every image')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads for torch (default: torch\'s choice)')
    parser.add_argument('--baseline', choices=['auto', 'mmdet', 'none'], default='auto',
                        help='also time mmdet\'s CenterNet (auto: when its config is available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- images
def find_images(args, cfg) -> Tuple[List[Optional[str]], List[np.ndarray], str]:
    """Image paths (``None`` for generated ones), the loaded images and a description."""
    folder = args.images
    if folder is None and not args.random_images:
        ds = cfg.get('test_dataloader', {}).get('dataset', {})
        while isinstance(ds, dict) and 'dataset' in ds:
            ds = ds['dataset']
        prefix = (ds.get('data_prefix') or {}).get('img', '') if isinstance(ds, dict) else ''
        root = ds.get('data_root') or '' if isinstance(ds, dict) else ''
        candidate = osp.join(root, prefix) if prefix or root else None
        if candidate and osp.isdir(candidate):
            folder = candidate
    if folder is not None and not args.random_images:
        if osp.isfile(folder):
            paths = [folder]
        elif osp.isdir(folder):
            paths = sorted(osp.join(folder, f) for f in os.listdir(folder)
                           if f.lower().endswith(IMAGE_EXTENSIONS))[:args.num_images]
        else:
            raise UserError(f'--images: not found: {folder}')
        if not paths:
            raise UserError(f'--images: no {"/".join(IMAGE_EXTENSIONS)} files in {folder}')
        imgs = [cv2.imread(p) for p in paths]
        bad = [p for p, im in zip(paths, imgs) if im is None]
        if bad:
            raise UserError(f'failed to load image {bad[0]}')
        shapes = sorted({im.shape[:2] for im in imgs})
        desc = f'{len(paths)} image(s) from {folder} ({shapes[0][1]}x{shapes[0][0]}' + \
            (f' ... {shapes[-1][1]}x{shapes[-1][0]})' if len(shapes) > 1 else ')')
        return paths, imgs, desc
    rng = np.random.RandomState(0)
    w, h = args.size
    imgs = [rng.randint(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(args.num_images)]
    return [None] * len(imgs), imgs, f'{len(imgs)} random {w}x{h} image(s) (no image files)'


# ----------------------------------------------------------------------------- runners
class Runner:
    """One model's test path as timed stages: ``stage(name, value) -> value``."""

    name = ''
    steps: Sequence[Tuple[str, Callable]] = ()
    device = torch.device('cpu')

    @torch.no_grad()
    def run(self, path: Optional[str], img: np.ndarray,
            timings: Optional[Dict[str, List[float]]]) -> None:
        value = (path, img)
        for stage, step in self.steps:
            start = time.perf_counter()
            value = step(value)
            sync(self.device)
            if timings is not None:
                timings.setdefault(stage, []).append(time.perf_counter() - start)


class OursRunner(Runner):

    def __init__(self, cfg, checkpoint, device, label):
        from mmcenternet.apis import StagedDetector, load_detector
        self.staged = StagedDetector(load_detector(cfg, checkpoint, device=device))
        self.device = self.staged.device
        self.name = label
        s = self.staged
        self.steps = (
            ('load', load_image),
            ('pre', lambda img: s.preprocess(img)),
            ('net', lambda prev: (s.network(prev[0]), prev[1])),
            ('dec', lambda prev: (s.decode(prev[0]), prev[1])),
            ('post', lambda prev: s.postprocess(prev[0], prev[1])),
        )


class MMDetRunner(MMDetCenterNet, Runner):
    """The baseline (:class:`reference_impls.MMDetCenterNet`) as a runner."""


# ----------------------------------------------------------------------------- main
def summarise(timings: Dict[str, List[float]]) -> Dict[str, float]:
    ms = {k: 1000 * float(np.mean(v)) for k, v in timings.items()}
    ms['total'] = sum(ms[k] for k in STAGES)
    ms['img/s'] = 1000.0 / ms['total'] if ms['total'] > 0 else float('inf')
    return ms


def print_table(rows: List[Tuple[str, Dict[str, float]]]) -> None:
    cols = list(STAGES) + ['total', 'img/s']
    width = max(len(name) for name, _ in rows) + 2
    print('model'.ljust(width) + ''.join(c.rjust(9) for c in cols))
    for name, ms in rows:
        print(name.ljust(width) + ''.join(f'{ms[c]:9.2f}' for c in cols))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.warmup < 0 or args.repeats < 1 or args.num_images < 1:
        raise UserError('--warmup must be >= 0, --repeats and --num-images >= 1')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    paths, imgs, desc = find_images(args, cfg)
    runners: List[Runner] = [
        OursRunner(cfg, args.checkpoint, args.device,
                   f'mmcenternet {osp.splitext(osp.basename(args.config))[0]}')
    ]
    if args.baseline != 'none':
        try:
            runners.append(MMDetRunner(cfg, args.device))
        except Exception as exc:  # noqa: BLE001
            if args.baseline == 'mmdet':
                raise UserError(f'cannot build the mmdet baseline ({MMDET_CENTERNET}): {exc}')
            print(f'(no baseline: mmdet\'s CenterNet config is not available: {exc})')

    # Warm-up, then the timed runs, alternating between the models image by image so that a
    # change of machine load affects both alike.
    for runner in runners:
        for i in range(args.warmup):
            runner.run(paths[i % len(paths)], imgs[i % len(imgs)], None)
    timings: List[Dict[str, List[float]]] = [dict() for _ in runners]
    for _ in range(args.repeats):
        for path, img in zip(paths, imgs):
            for runner, t in zip(runners, timings):
                runner.run(path, img, t)

    device = str(runners[0].device)
    if runners[0].device.type == 'cuda':
        device += f' ({torch.cuda.get_device_name(runners[0].device)})'
    else:
        device += f', {torch.get_num_threads()} thread(s)'
    print(f'\n{machine_line(runners[0].device)}')
    print(f'per-image time in ms, batch 1, device {device}, torch {torch.__version__}')
    print(f'{desc}; {args.repeats} timed run(s) of each after {args.warmup} warm-up run(s); '
          f'weights: {args.checkpoint or "random"}')
    print_table([(r.name, summarise(t)) for r, t in zip(runners, timings)])


if __name__ == '__main__':
    run_cli(main)
