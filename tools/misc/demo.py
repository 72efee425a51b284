# Copyright (c) mmcenternet contributors. All rights reserved.
"""``make demo`` / ``make demo-pose``: generate a dataset, train CenterNet on it, evaluate, draw.

Steps (each one a tool a user can run by hand, printed before it runs):

1. ``tools/misc/make_demo_data.py``: 800 training and 100 validation images with COCO-format
   annotations in ``data/demo`` (skipped when they are already there);
2. ``tools/train.py configs/demo/ctdet_r18_shapes.py --work-dir work_dirs/demo`` with one
   progress line per epoch (skipped when the final checkpoint exists; ``--retrain`` forces it);
   it writes the loss and validation-AP curves to ``work_dirs/demo/curves.png``;
3. ``tools/test.py`` on the final checkpoint: the COCO bbox AP table;
4. ``tools/misc/image_demo.py`` on validation images: PNG files with the ground truth beside
   the predicted boxes;
5. ``tools/analysis_tools/browse_heatmaps.py`` on one validation image: the predicted centre
   heat map over it, its peaks marked.

At the end it prints where the pictures are and the commands to type next.

``--task pose`` (``make demo-pose``) does the same for multi-person pose: stick figures with the
17 COCO joints (400 training, 50 validation images in ``data/demo_pose``),
``configs/demo/pose_r18_stick_figures.py``, the COCO keypoint AP table and the skeletons drawn
on validation images (steps 1 to 4).

Examples:
    python tools/misc/demo.py
    python tools/misc/demo.py --retrain
    python tools/misc/demo.py --epochs 1 --num-images 16 --data-root /tmp/d --work-dir /tmp/w
    python tools/misc/demo.py --task pose
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
from typing import Callable, List, NamedTuple, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/demo/ctdet_r18_shapes.py'


class Task(NamedTuple):
    """What differs between the detection and the pose demo."""
    config: str
    data_root: str
    work_dir: str
    num_train: int
    num_val: int
    ann: str  # annotation file name pattern, {split} = train / val
    data_flags: Tuple[str, ...]  # extra make_demo_data.py flags
    metric: str  # the test's AP line: (AP, AP50) groups
    label: str  # what the AP measures


TASKS = {
    'det': Task(CONFIG, 'data/demo', 'work_dirs/demo', 800, 100, '{split}.json', (),
                r'coco/bbox_mAP: ([\d.]+)\s+coco/bbox_mAP_50: ([\d.]+)', 'bbox AP'),
    'pose': Task('configs/demo/pose_r18_stick_figures.py', 'data/demo_pose', 'work_dirs/demo_pose',
                 400, 50, 'person_keypoints_{split}.json', ('--pose', ),
                 r'coco/AP: ([\d.]+)\s+coco/AP \.5: ([\d.]+)', 'keypoint AP'),
}

NEXT_STEPS = """\
What next (after `source .venv/bin/activate`):
  * train on your own COCO-format data (about ten lines of config: docs/custom_dataset.md):
      python tools/train.py configs/my_data/resdcn18_my_data.py --auto-scale-lr
  * test a converted original checkpoint (ctdet_coco_dla_2x.pth from the original model zoo):
      python tools/model_converters/centernet2mmcenternet.py ctdet_coco_dla_2x.pth \\
          checkpoints/dla34_2x.pth
      python tools/test.py configs/centernet/dla34_2x_coco.py checkpoints/dla34_2x.pth
  * export to ONNX and check it against PyTorch (docs/deployment.md):
      python tools/deployment/export_onnx.py {config} {checkpoint} \\
          {onnx} --verify"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate data, train, test and draw the CenterNet demo')
    parser.add_argument('--task', choices=sorted(TASKS), default='det',
                        help='det: shapes, boxes (make demo); pose: stick figures, joints '
                        '(make demo-pose)')
    parser.add_argument('--data-root', help='dataset folder (default: data/demo or '
                        'data/demo_pose)')
    parser.add_argument('--work-dir', help='folder for the run (default: work_dirs/demo or '
                        'work_dirs/demo_pose)')
    parser.add_argument('--num-images', type=int, default=None,
                        help='training images (default 800 for det, 400 for pose; validation: '
                        'the default count, or a quarter of it)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='training epochs (default: the config\'s); the learning-rate '
                        'steps move with it')
    parser.add_argument('--retrain', action='store_true',
                        help='train even if the final checkpoint exists')
    parser.add_argument('--num-pictures', type=int, default=8,
                        help='validation images to draw predictions on')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='draw predictions with at least this score')
    parser.add_argument('--heatmap-index', type=int, default=0,
                        help='validation image whose predicted heat map is drawn')
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
VAL_RE = re.compile(r'Epoch\(val\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]\s+coco/(bbox_mAP|AP): ([\d.]+)'
                    r'\s+coco/(?:bbox_mAP_50|AP \.5): ([\d.]+)')
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
            kind = 'bbox AP' if m.group(4) == 'bbox_mAP' else 'keypoint AP'
            print(f'[{elapsed}] validation after epoch {m.group(1)}: {kind} {m.group(5)}, '
                  f'AP50 {m.group(6)}', flush=True)
            return
        if 'Error' in line or 'error:' in line:
            print(line, end='', flush=True)


class TestOutput:
    """Prints the COCO table and remembers AP and AP50 (``metric``: a regex with both)."""

    def __init__(self, metric: str) -> None:
        self.metric = re.compile(metric)
        self.ap = self.ap50 = None

    def __call__(self, line: str) -> None:
        if 'Average Precision' in line or 'Average Recall' in line:
            print(line.rstrip(), flush=True)
        m = self.metric.search(line)
        if m:
            self.ap, self.ap50 = float(m.group(1)), float(m.group(2))
        if 'error:' in line:
            print(line, end='', flush=True)


# ----------------------------------------------------------------------------- steps
def data_ready(root: str, num_train: int, num_val: int, ann_name: str = '{split}.json') -> bool:
    for split, num in (('train', num_train), ('val', num_val)):
        ann = osp.join(REPO, root, 'annotations', ann_name.format(split=split))
        if not osp.isfile(ann):
            return False
        with open(ann) as f:
            images = json.load(f).get('images', [])
        if len(images) != num or not all(
                osp.isfile(osp.join(REPO, root, split, im['file_name'])) for im in images):
            return False
    return True


def config_epochs(config: str) -> int:
    return int(load_config(config).train_cfg.max_epochs)


def main(argv=None) -> int:
    args = parse_args(argv)
    task = TASKS[args.task]
    pose = args.task == 'pose'
    config = task.config
    steps = 4 if pose else 5
    py = sys.executable
    t0 = time.time()
    num_train = args.num_images or task.num_train
    num_val = task.num_val if num_train == task.num_train else max(num_train // 4, 2)
    root = (args.data_root or task.data_root).rstrip('/')
    epochs = args.epochs or config_epochs(config)
    work_dir = args.work_dir or task.work_dir
    val_ann = osp.join(root, 'annotations', task.ann.format(split='val'))

    banner(f'1/{steps} demo data: {num_train} training and {num_val} validation images in {root}')
    fresh_data = False
    if data_ready(root, num_train, num_val, task.ann):
        print(f'found {root}, using it (delete it, or run `make clean-demo`, to regenerate)')
    else:
        run_step('data', [py, 'tools/misc/make_demo_data.py', '--out', root, '--train',
                          str(num_train), '--val', str(num_val), *task.data_flags])
        fresh_data = True

    options = [f'{k}_dataloader.dataset.data_root={root}/' for k in ('train', 'val', 'test')]
    options += [f'{k}_evaluator.ann_file={val_ann}' for k in ('val', 'test')]
    if args.epochs is not None:
        # the config's last scheduler is the MultiStepLR; its steps move with the epochs
        last = len(load_config(config).param_scheduler) - 1
        milestones = sorted({max(1, round(epochs * 0.75)), max(1, round(epochs * 0.9))})
        options += [f'train_cfg.max_epochs={epochs}', f'param_scheduler.{last}.end={epochs}',
                    f'param_scheduler.{last}.milestones=[{",".join(map(str, milestones))}]',
                    f'train_cfg.val_interval={max(1, epochs // 4)}',
                    f'default_hooks.checkpoint.interval={max(1, epochs // 4)}']
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')

    banner(f'2/{steps} training {config} for {epochs} epoch(s) (CPU: a few minutes with the '
           'default settings)')
    train_start = time.time()
    if osp.isfile(osp.join(REPO, checkpoint)) and not (args.retrain or fresh_data):
        print(f'found {checkpoint}, skipping training (--retrain, or `make clean-demo`, trains '
              'again)')
        train_minutes = None
    else:
        os.makedirs(osp.join(REPO, work_dir), exist_ok=True)
        run_step('train', [py, 'tools/train.py', config, '--work-dir', work_dir,
                           '--cfg-options', *options],
                 on_line=TrainProgress(epochs), log_file=osp.join(REPO, work_dir, 'train.log'))
        train_minutes = (time.time() - train_start) / 60
        print(f'training took {train_minutes:.1f} min; checkpoint {checkpoint}')

    banner(f'3/{steps} evaluating {checkpoint} on the {num_val} validation images (COCO '
           f'{task.label})')
    test = TestOutput(task.metric)
    run_step('test', [py, 'tools/test.py', config, checkpoint, '--work-dir',
                      osp.join(work_dir, 'test'), '--cfg-options', *options],
             on_line=test, log_file=osp.join(REPO, work_dir, 'test.log'))

    what = 'the persons and skeletons' if pose else 'the predictions'
    banner(f'4/{steps} drawing {what} (score >= {args.score_thr:g}) beside the ground truth on '
           f'{args.num_pictures} validation images')
    out_dir = osp.join(work_dir, 'predictions')
    run_step('pictures', [py, 'tools/misc/image_demo.py', osp.join(root, 'val'), config,
                          checkpoint, '--out-dir', out_dir, '--max-images',
                          str(args.num_pictures), '--score-thr', str(args.score_thr),
                          '--ann-file', val_ann,
                          '--cfg-options', *options])

    heat_files: List[str] = []
    if not pose:
        banner(f'5/{steps} the predicted centre heat map of one validation image')
        heat_dir = osp.join(work_dir, 'heatmap')

        def on_heat_line(line: str) -> None:
            print(line, end='', flush=True)
            if line.startswith('wrote '):
                heat_files.append(line.split('wrote ', 1)[1].strip())
        run_step('heat map', [py, 'tools/analysis_tools/browse_heatmaps.py', config,
                              '--checkpoint', checkpoint, '--split', 'test', '--index',
                              str(args.heatmap_index), '--score-thr', str(args.score_thr),
                              '--out-dir', heat_dir, '--cfg-options', *options],
                 on_line=on_heat_line)
    curves = osp.join(work_dir, 'curves.png')

    minutes = (time.time() - t0) / 60
    banner('demo finished')
    summary = [f'total time {minutes:.1f} min']
    if train_minutes is not None:
        summary.append(f'training {train_minutes:.1f} min')
    if test.ap is not None:
        summary.append(f'{task.label} {test.ap:.3f}, AP50 {test.ap50:.3f}')
    print('; '.join(summary))
    print(f'{"skeletons" if pose else "predictions"} beside the ground truth: '
          f'{osp.join(REPO, out_dir)}')
    pred_heat = [f for f in heat_files if f.endswith('_pred.png')] or heat_files
    if pred_heat:
        print(f'predicted heat map with its peaks: {osp.join(REPO, pred_heat[0])}')
    if osp.isfile(osp.join(REPO, curves)):
        print(f'loss and validation AP curves: {osp.join(REPO, curves)}')
    print()
    print(NEXT_STEPS.format(config=config, checkpoint=checkpoint,
                            onnx=osp.join(work_dir, 'demo.onnx')))
    return 0


def load_config(config: str):
    sys.path.insert(0, REPO)
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, config))


if __name__ == '__main__':
    try:
        sys.exit(main())
    except StepFailed as exc:
        print(f'demo: {exc}', file=sys.stderr)
        sys.exit(1)
