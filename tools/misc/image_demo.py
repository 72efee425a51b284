# Copyright (c) mmcenternet contributors. All rights reserved.
"""Detect objects (or persons and their joints) in an image or a folder of images and save the
drawn results as PNG files.

Detection configs: boxes with their class names and scores (those at or above ``--score-thr``);
the predictions come from mmdet's ``inference_detector``, exactly as ``tools/test.py`` computes
them. Pose configs: every person scoring at least ``--score-thr`` with its box, score, skeleton
and joints; the predictions come from the config's test path (flip test as configured), as in
``tools/test.py``.

Examples:
    python tools/misc/image_demo.py data/demo/val/val_00000.png \\
        configs/demo/ctdet_r18_shapes.py work_dirs/demo/epoch_96.pth
    python tools/misc/image_demo.py data/demo/val configs/demo/ctdet_r18_shapes.py \\
        work_dirs/demo/epoch_96.pth --out-dir work_dirs/demo/predictions --max-images 8
    python tools/misc/image_demo.py photos/ configs/centernet/dla34_2x_coco.py dla34_2x.pth \\
        --score-thr 0.3 --device cuda
    python tools/misc/image_demo.py photos/ configs/centernet/dla34_2x_coco.py \\
        --backend onnxruntime --onnx dla34.onnx     # tools/deployment/export_onnx.py --dynamic
    python tools/misc/image_demo.py photos/ configs/centernet_pose/dla34_3x_coco.py \\
        checkpoints/pose_dla34_3x.pth --out-dir outputs/pose
"""
import argparse
import math
import os
import os.path as osp
import sys
import warnings

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.cli import UserError, run_cli  # noqa: E402

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the detections of a model on images (PNG files)')
    parser.add_argument('input', help='an image file or a folder of images')
    parser.add_argument('config', help='detection or pose config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file (not needed with --backend onnxruntime)')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default=None,
                        help='run the network with PyTorch (default) or onnxruntime (--onnx)')
    parser.add_argument('--onnx', help='ONNX file (raw maps, exported with --dynamic) for '
                        '--backend onnxruntime')
    parser.add_argument('--out-dir', default='outputs/image_demo',
                        help='folder for the drawn images (created if needed)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='draw detections with at least this score')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument('--max-images', type=int, default=None,
                        help='only the first N images of a folder (sorted by name)')
    parser.add_argument('--draw-size', type=int, default=480,
                        help='draw small images enlarged by a whole factor until their longer '
                        'side reaches this many pixels (the labels stay legible); 0: never')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    args.backend = args.backend or ('onnxruntime' if args.onnx else 'pytorch')
    if args.backend == 'onnxruntime' and not args.onnx:
        parser.error('--backend onnxruntime needs --onnx FILE')
    if args.backend == 'pytorch' and not args.checkpoint:
        parser.error('the following arguments are required: checkpoint (or --onnx FILE)')
    return args


def list_images(path: str, max_images=None):
    """The image files at ``path`` (a file, or a folder's images sorted by name)."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise UserError(f'input not found: {path} (give an image file or a folder of images)')
    files = sorted(osp.join(path, f) for f in os.listdir(path)
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise UserError(f'no images ({", ".join(IMAGE_EXTENSIONS)}) in folder {path}')
    return files[:max_images] if max_images else files


def build_visualizer(model):
    """The config's visualizer (boxes in either corner order) with the model's class names."""
    from mmdet.registry import VISUALIZERS
    from mmengine.config import ConfigDict
    vis_cfg = ConfigDict(model.cfg.get('visualizer') or dict(type='CenterNetDetVisualizer'))
    vis_cfg.pop('vis_backends', None)  # draw into files given explicitly, no backend folders
    vis_cfg.name = f'image_demo_{id(model)}'
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = model.dataset_meta
    return visualizer


def enlarge_for_drawing(img, result, draw_size: int):
    """Copies of image and result enlarged by a whole factor (the result is left untouched)."""
    import cv2
    h, w = img.shape[:2]
    factor = max(int(math.ceil(draw_size / max(h, w))), 1) if draw_size else 1
    drawn = result.clone()
    bboxes = result.pred_instances.bboxes * factor
    # Parts of boxes beyond the image are cut at its edge for drawing only: matplotlib would
    # otherwise widen the canvas and shrink the picture.
    bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, w * factor - 1)
    bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, h * factor - 1)
    drawn.pred_instances.bboxes = bboxes
    if factor > 1:
        img = cv2.resize(img, (w * factor, h * factor), interpolation=cv2.INTER_LINEAR)
    return img, drawn


def draw_poses(args, files) -> None:
    """The pose branch of :func:`main`: persons, skeletons and joints into PNG files."""
    import cv2

    from mmcenternet.apis import draw_pose, inference_pose, load_pose_estimator
    if args.backend == 'onnxruntime':
        from mmcenternet.deployment.utils import require
        require('onnxruntime')
        if not osp.isfile(args.onnx):
            raise UserError(f'ONNX file not found: {args.onnx}')
    model = load_pose_estimator(args.config, args.checkpoint, device=args.device,
                                cfg_options=args.cfg_options,
                                onnx_file=args.onnx if args.backend == 'onnxruntime' else None)
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise UserError(f'failed to load image {path}')
        pred = inference_pose(model, img, img_path=path).pred_instances
        h, w = img.shape[:2]
        scale = max(int(math.ceil(args.draw_size / max(h, w))), 1) if args.draw_size else 1
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        cv2.imwrite(out_file, draw_pose(img, pred, args.score_thr, meta=model.dataset_meta,
                                        scale=scale))
        scores = [float(s) for s in pred.bbox_scores if s >= args.score_thr]
        found = ', '.join(f'{s:.2f}' for s in scores[:5]) + (' ...' if len(scores) > 5 else '')
        print(f'{path}: {len(scores)} person(s) >= {args.score_thr:g}'
              f'{" (scores " + found + ")" if scores else ""} -> {out_file}')
    print(f'drawn images: {osp.abspath(args.out_dir)}')


def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be within [0, 1], got {args.score_thr}')
    files = list_images(args.input, args.max_images)

    from mmcenternet.utils.cli import is_pose_config, load_config
    if is_pose_config(load_config(args.config, args.cfg_options)):
        return draw_poses(args, files)

    import mmcv
    from mmdet.apis import inference_detector

    from mmcenternet.apis import load_detector
    model = load_detector(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options,
                          onnx_file=args.onnx if args.backend == 'onnxruntime' else None)
    visualizer = build_visualizer(model)
    classes = model.dataset_meta.get('classes', ())
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        img = mmcv.imread(path)  # BGR
        if img is None:
            raise UserError(f'failed to load image {path}')
        result = inference_detector(model, img)
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        big_img, drawn = enlarge_for_drawing(img, result, args.draw_size)
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*out of bounds.*')
            visualizer.add_datasample(
                osp.basename(path), mmcv.bgr2rgb(big_img), data_sample=drawn, draw_gt=False,
                show=False, pred_score_thr=args.score_thr, out_file=out_file)
        pred = result.pred_instances
        keep = pred.scores >= args.score_thr
        found = ', '.join(f'{classes[int(c)] if int(c) < len(classes) else int(c)} {float(s):.2f}'
                          for c, s in zip(pred.labels[keep][:5], pred.scores[keep][:5]))
        more = ' ...' if int(keep.sum()) > 5 else ''
        print(f'{path}: {int(keep.sum())} detection(s) >= {args.score_thr:g}'
              f'{" (" + found + more + ")" if found else ""} -> {out_file}')
    print(f'drawn images: {osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    run_cli(main)
