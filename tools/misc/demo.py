# Copyright (c) mmcenternet contributors. All rights reserved.
"""``make demo``: generate the shapes dataset, train CenterNet on it, evaluate, draw predictions.

Steps (each one a tool a user can run by hand, printed before it runs):

1. ``tools/misc/make_demo_data.py``: 240 training and 60 validation images with COCO-format
   annotations in ``data/demo`` (skipped when they are already there);
2. ``tools/train.py configs/demo/ctdet_r18_shapes.py --work-dir work_dirs/demo`` with one
   progress line per epoch (skipped when the final checkpoint exists; ``--retrain`` forces it);
3. ``tools/test.py`` on the final checkpoint: the COCO bbox AP table;
4. ``tools/misc/image_demo.py`` on validation images: PNG files with the predicted boxes.

Examples:
    python tools/misc/demo.py
    python tools/misc/demo.py --retrain
    python tools/misc/demo.py --epochs 1 --num-images 16 --data-root /tmp/d --work-dir /tmp/w
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from collections import deque
from typing import Callable, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/demo/ctdet_r18_shapes.py'
DEFAULT_TRAIN, DEFAULT_VAL = 240, 60


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate data, train, test and draw the CenterNet demo')
    parser.add_argument('--data-root', default='data/demo', help='dataset folder')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='folder for the run')
    parser.add_argument('--num-images', type=int, default=DEFAULT_TRAIN,
                        help='training images (validation: a quarter of it)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='training epochs (default: the config\'s); the learning-rate '
                        'steps move with it')
    parser.add_argument('--retrain', action='store_true',
                        help='train even if the final checkpoint exists')
    parser.add_argument('--num-pictures', type=int, default=8,
                        help='validation images to draw predictions on')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='draw predictions with at least this score')
    return parser.parse_args(argv)


class StepFailed(RuntimeError):
    pass


def banner(text: str) -> None:
    print(f'\n==> {text}', flush=True)


def run_step(name: str, cmd: List[str], on_line: Optional[Callable[[str], None]] = None,
             log_file: Optional[str] = None) -> None:
    """Run a tool with this Python; hand each output line to ``on_line`` (default: print it)."""
    shown = ' '.join(cmd[1:])
    print(f'$ python {shown}', flush=True)
    tail: deque = deque(maxlen=40)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    log = open(log_file, 'w') if log_file else None
    try:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            if log:
                log.write(line)
            (on_line or (lambda s: print(s, end='', flush=True)))(line)
        code = proc.wait()
    finally:
        if log:
            log.close()
    if code != 0:
        print(''.join(tail), end='', file=sys.stderr)
        raise StepFailed(f'step "{name}" failed (exit code {code})'
                         + (f'; full output: {log_file}' if log_file else ''))


# ----------------------------------------------------------------------------- progress
TRAIN_RE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?eta: (\S+).*?'
                      r'loss: ([\d.]+)')
VAL_RE = re.compile(r'Epoch\(val\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]\s+coco/bbox_mAP: ([\d.]+)\s+'
                    r'coco/bbox_mAP_50: ([\d.]+)')
PART_RE = re.compile(r'(loss_\w+): ([\d.]+)')


class TrainProgress:
    """Turns mmengine's log lines into one line per logged epoch step and validation."""

    def __init__(self, max_epochs: int) -> None:
        self.max_epochs = max_epochs
        self.start = time.time()

    def __call__(self, line: str) -> None:
        elapsed = time.strftime('%M:%S', time.gmtime(time.time() - self.start))
        m = TRAIN_RE.search(line)
        if m:
            epoch, it, n, eta, loss = m.groups()
            parts = ', '.join(f'{k[5:]} {float(v):.3f}' for k, v in PART_RE.findall(line))
            where = '' if it == n else f' iter {it}/{n}'
            print(f'[{elapsed}] epoch {int(epoch):3d}/{self.max_epochs}{where}  loss '
                  f'{float(loss):.3f} ({parts})  eta {eta}', flush=True)
            return
        m = VAL_RE.search(line)
        if m:
            print(f'[{elapsed}] validation after epoch {m.group(1)}: bbox AP {m.group(4)}, '
                  f'AP50 {m.group(5)}', flush=True)
            return
        if 'Error' in line or 'error:' in line:
            print(line, end='', flush=True)


class TestOutput:
    """Prints the COCO table and remembers AP and AP50."""

    def __init__(self) -> None:
        self.ap = self.ap50 = None

    def __call__(self, line: str) -> None:
        if 'Average Precision' in line or 'Average Recall' in line:
            print(line.rstrip(), flush=True)
        m = re.search(r'coco/bbox_mAP: ([\d.]+)\s+coco/bbox_mAP_50: ([\d.]+)', line)
        if m:
            self.ap, self.ap50 = float(m.group(1)), float(m.group(2))
        if 'error:' in line:
            print(line, end='', flush=True)


# ----------------------------------------------------------------------------- steps
def data_ready(root: str, num_train: int, num_val: int) -> bool:
    for split, num in (('train', num_train), ('val', num_val)):
        ann = osp.join(REPO, root, 'annotations', f'{split}.json')
        if not osp.isfile(ann):
            return False
        with open(ann) as f:
            images = json.load(f).get('images', [])
        if len(images) != num or not all(
                osp.isfile(osp.join(REPO, root, split, im['file_name'])) for im in images):
            return False
    return True


def config_epochs() -> int:
    sys.path.insert(0, REPO)
    from mmengine.config import Config
    return int(Config.fromfile(osp.join(REPO, CONFIG)).train_cfg.max_epochs)


def main(argv=None) -> int:
    args = parse_args(argv)
    py = sys.executable
    t0 = time.time()
    num_train = args.num_images
    num_val = DEFAULT_VAL if num_train == DEFAULT_TRAIN else max(num_train // 4, 2)
    root = args.data_root.rstrip('/')
    epochs = args.epochs or config_epochs()
    work_dir = args.work_dir

    banner(f'1/4 demo data: {num_train} training and {num_val} validation images in {root}')
    fresh_data = False
    if data_ready(root, num_train, num_val):
        print(f'found {root}, using it (delete it, or run `make clean-demo`, to regenerate)')
    else:
        run_step('data', [py, 'tools/misc/make_demo_data.py', '--out', root, '--train',
                          str(num_train), '--val', str(num_val)])
        fresh_data = True

    options = [f'{k}_dataloader.dataset.data_root={root}/' for k in ('train', 'val', 'test')]
    options += [f'{k}_evaluator.ann_file={root}/annotations/val.json' for k in ('val', 'test')]
    if args.epochs is not None:
        steps = sorted({max(1, round(epochs * 0.75)), max(1, round(epochs * 0.9))})
        options += [f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.end={epochs}',
                    f'param_scheduler.0.milestones=[{",".join(map(str, steps))}]',
                    f'train_cfg.val_interval={max(1, epochs // 4)}',
                    f'default_hooks.checkpoint.interval={max(1, epochs // 4)}']
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')

    banner(f'2/4 training {CONFIG} for {epochs} epoch(s) (CPU: about 5 minutes with the '
           'default settings)')
    train_start = time.time()
    if osp.isfile(osp.join(REPO, checkpoint)) and not (args.retrain or fresh_data):
        print(f'found {checkpoint}, skipping training (--retrain, or `make clean-demo`, trains '
              'again)')
        train_minutes = None
    else:
        os.makedirs(osp.join(REPO, work_dir), exist_ok=True)
        run_step('train', [py, 'tools/train.py', CONFIG, '--work-dir', work_dir,
                           '--cfg-options', *options],
                 on_line=TrainProgress(epochs), log_file=osp.join(REPO, work_dir, 'train.log'))
        train_minutes = (time.time() - train_start) / 60
        print(f'training took {train_minutes:.1f} min; checkpoint {checkpoint}')

    banner(f'3/4 evaluating {checkpoint} on the {num_val} validation images (COCO bbox AP)')
    test = TestOutput()
    run_step('test', [py, 'tools/test.py', CONFIG, checkpoint, '--work-dir',
                      osp.join(work_dir, 'test'), '--cfg-options', *options],
             on_line=test, log_file=osp.join(REPO, work_dir, 'test.log'))

    banner(f'4/4 drawing the predictions (score >= {args.score_thr:g}) on '
           f'{args.num_pictures} validation images')
    out_dir = osp.join(work_dir, 'predictions')
    run_step('pictures', [py, 'tools/misc/image_demo.py', osp.join(root, 'val'), CONFIG,
                          checkpoint, '--out-dir', out_dir, '--max-images',
                          str(args.num_pictures), '--score-thr', str(args.score_thr)])

    minutes = (time.time() - t0) / 60
    banner('demo finished')
    summary = [f'total time {minutes:.1f} min']
    if train_minutes is not None:
        summary.append(f'training {train_minutes:.1f} min')
    if test.ap is not None:
        summary.append(f'bbox AP {test.ap:.3f}, AP50 {test.ap50:.3f}')
    print('; '.join(summary))
    print(f'pictures of the predictions: {osp.join(REPO, out_dir)}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except StepFailed as exc:
        print(f'demo: {exc}', file=sys.stderr)
        sys.exit(1)
