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
        --checkpoint work_dirs/demo/epoch_96.pth
    python tools/analysis_tools/benchmark_speed.py configs/centernet/resdcn18_1x_coco.py \\
        --images data/coco/val2017 --num-images 50 --device cuda
    python tools/analysis_tools/benchmark_speed.py configs/centernet/dla34_2x_coco.py \\
        --random-images --size 512 512 --baseline none
"""
import argparse
import copy
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.setup_run import UserError, load_config, run_cli  # noqa: E402

STAGES = ('load', 'pre', 'net', 'dec', 'post')
MMDET_CENTERNET = 'mmdet::centernet/centernet_r18-dcnv2_8xb16-crop512-140e_coco.py'
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
        from mmcenternet.apis import sync_device
        value = (path, img)
        for stage, step in self.steps:
            start = time.perf_counter()
            value = step(value)
            sync_device(self.device)
            if timings is not None:
                timings.setdefault(stage, []).append(time.perf_counter() - start)


def load_step(value):
    path, img = value
    return cv2.imread(path) if path is not None else img.copy()


class OursRunner(Runner):

    def __init__(self, cfg, checkpoint, device, label):
        from mmcenternet.apis import StagedDetector, load_detector
        self.staged = StagedDetector(load_detector(cfg, checkpoint, device=device))
        self.device = self.staged.device
        self.name = label
        s = self.staged
        self.steps = (
            ('load', load_step),
            ('pre', lambda img: s.preprocess(img)),
            ('net', lambda prev: (s.network(prev[0]), prev[1])),
            ('dec', lambda prev: (s.decode(prev[0]), prev[1])),
            ('post', lambda prev: s.postprocess(prev[0], prev[1])),
        )


class MMDetRunner(Runner):
    """mmdet's ``CenterNet`` detector with its own test pipeline, head and decoding."""

    def __init__(self, cfg, device):
        from mmdet.registry import MODELS
        from mmengine.dataset import Compose
        from mmengine.hub import get_config
        from mmengine.registry import init_default_scope
        base = get_config(MMDET_CENTERNET)
        init_default_scope('mmdet')
        model_cfg = copy.deepcopy(base.model)
        ours = cfg.model
        head = ours.get('bbox_head', {})
        same_body = (ours.get('backbone', {}).get('type') == 'ResNet' and ours.get(
            'neck', {}).get('type') in ('CTResNetNeck', 'CenterNetResNetNeck'))
        if same_body:
            model_cfg.backbone = copy.deepcopy(ours.backbone)
            # mmdet's own neck (mmcv's DCNv2) with the sizes of ours
            for key in ('in_channels', 'num_deconv_filters', 'num_deconv_kernels', 'use_dcn'):
                if key in ours.neck:
                    model_cfg.neck[key] = copy.deepcopy(ours.neck[key])
            model_cfg.bbox_head.in_channels = head.get('in_channels', 64)
            model_cfg.bbox_head.feat_channels = head.get('head_conv', 64)
            depth = ours.backbone.get('depth', 18)
            dcn = 'DCNv2' if ours.neck.get('use_dcn', True) else 'no DCN'
            width = ours.backbone.get('base_channels', 64)
            self.name = (f'mmdet CenterNet, same sizes (R{depth}'
                         f'{"" if width == 64 else f" w{width}"}, {dcn})')
        else:
            self.name = 'mmdet CenterNet R18-DCNv2 (mmdet config)'
        model_cfg.backbone.init_cfg = None
        model_cfg.bbox_head.num_classes = head.get('num_classes', 80)
        self.model = MODELS.build(model_cfg).to(device).eval()
        self.device = next(self.model.parameters()).device
        pipeline = [t for t in copy.deepcopy(base.test_dataloader.dataset.pipeline)
                    if t['type'] != 'LoadAnnotations']
        pipeline[0] = dict(type='mmdet.LoadImageFromNDArray',
                           to_float32=pipeline[0].get('to_float32', False))
        self.pipeline = Compose(pipeline)
        m, h = self.model, self.model.bbox_head
        test_cfg = model_cfg.test_cfg

        def pre(img):
            data = self.pipeline(dict(img=img, img_id=0))
            batch = m.data_preprocessor(
                dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
            return batch['inputs'], batch['data_samples']

        def dec(prev):
            (heat, wh, offset), samples = prev
            shape = samples[0].metainfo['batch_input_shape']
            dets, labels = h._decode_heatmap(heat[0], wh[0], offset[0], shape,
                                             k=test_cfg.topk,
                                             kernel=test_cfg.local_maximum_kernel)
            return (dets, labels), samples

        def post(prev):
            from mmengine.structures import InstanceData
            (dets, labels), samples = prev
            results = []
            for i, sample in enumerate(samples):
                meta = sample.metainfo
                # the border mmdet's RandomCenterCropPad pasted the image at: top, _, left, _
                top, left = meta['border'][0], meta['border'][2]
                boxes = dets[i, :, :4] - dets.new_tensor([left, top, left, top])
                if 'scale_factor' in meta:
                    boxes = boxes / boxes.new_tensor(meta['scale_factor']).repeat(2)
                res = InstanceData(bboxes=boxes, scores=dets[i, :, 4], labels=labels[i])
                results.append(res[:test_cfg.max_per_img].cpu())
            return m.add_pred_to_datasample(samples, results)

        self.steps = (
            ('load', load_step),
            ('pre', pre),
            ('net', lambda prev: (m._forward(prev[0]), prev[1])),
            ('dec', dec),
            ('post', post),
        )


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
    print(f'\nper-image time in ms, batch 1, device {device}, torch {torch.__version__}')
    print(f'{desc}; {args.repeats} timed run(s) of each after {args.warmup} warm-up run(s); '
          f'weights: {args.checkpoint or "random"}')
    print_table([(r.name, summarise(t)) for r, t in zip(runners, timings)])


if __name__ == '__main__':
    run_cli(main)
