# Copyright (c) mmcenternet contributors. All rights reserved.
"""Detect objects (or persons and their joints) in an image or a folder of images and save the
drawn results as PNG files.

Detection configs: one box per object with its class name and score (detections at or above
``--score-thr``; where CenterNet puts several classes on one object the best is drawn and the
others are printed); with ``--ann-file`` the ground truth is drawn beside the prediction. The
predictions come from mmdet's ``inference_detector``, exactly as ``tools/test.py`` computes them.
Pose configs: every person scoring at least ``--score-thr`` with its box, score, skeleton and
joints; the predictions come from the config's test path (flip test as configured), as in
``tools/test.py``.

Examples:
    python tools/misc/image_demo.py data/demo/val/val_00000.png \\
        configs/demo/ctdet_r18_shapes.py work_dirs/demo/epoch_12.pth
    python tools/misc/image_demo.py data/demo/val configs/demo/ctdet_r18_shapes.py \\
        work_dirs/demo/epoch_12.pth --out-dir work_dirs/demo/predictions --max-images 8 \\
        --ann-file data/demo/annotations/val.json
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
    parser.add_argument('--ann-file',
                        help='COCO-format annotations of the images (detection or keypoints): '
                        'their ground truth is drawn beside the prediction (images are matched '
                        'by file name)')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32',
                        help='PyTorch backend: backbone, neck and the heads\' regression '
                        'branches in bfloat16 / float16 (heat maps and decoding stay float32)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    args.backend = args.backend or ('onnxruntime' if args.onnx else 'pytorch')
    if args.backend == 'onnxruntime' and not args.onnx:
        parser.error('--backend onnxruntime needs --onnx FILE')
    if args.backend == 'pytorch' and not args.checkpoint:
        parser.error('the following arguments are required: checkpoint (or --onnx FILE)')
    if args.backend == 'onnxruntime' and args.precision != 'fp32':
        parser.error('--precision applies to the PyTorch backend; quantise the ONNX file for '
                     'onnxruntime (tools/deployment/quantize_onnx.py)')
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


def build_visualizer(model, draw_size: int = 480):
    """The config's visualizer (one box per object, legible labels) with the model's classes."""
    from mmdet.registry import VISUALIZERS
    from mmengine.config import ConfigDict
    vis_cfg = ConfigDict(model.cfg.get('visualizer') or dict(type='CenterNetDetVisualizer'))
    vis_cfg.pop('vis_backends', None)  # draw into files given explicitly, no backend folders
    vis_cfg.name = f'image_demo_{id(model)}'
    if vis_cfg.type in ('CenterNetDetVisualizer', 'mmcenternet.CenterNetDetVisualizer'):
        vis_cfg.min_draw_size = draw_size
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = model.dataset_meta
    return visualizer


def apply_precision(model, precision: str) -> None:
    if precision != 'fp32':
        from mmcenternet.models.utils import set_inference_precision
        try:
            set_inference_precision(model, precision)
        except ValueError as exc:
            raise UserError(f'--precision {precision}: {exc}') from None


def draw_poses(args, files) -> None:
    """The pose branch of :func:`main`: persons, skeletons and joints into PNG files."""
    import cv2

    from types import SimpleNamespace

    import numpy as np

    from mmcenternet.apis import draw_pose, inference_pose, load_pose_estimator
    from mmcenternet.datasets import coco_keypoints_by_file
    if args.backend == 'onnxruntime':
        from mmcenternet.deployment.utils import require
        require('onnxruntime')
        if not osp.isfile(args.onnx):
            raise UserError(f'ONNX file not found: {args.onnx}')
    model = load_pose_estimator(args.config, args.checkpoint, device=args.device,
                                cfg_options=args.cfg_options,
                                onnx_file=args.onnx if args.backend == 'onnxruntime' else None)
    apply_precision(model, args.precision)
    truth = coco_keypoints_by_file(args.ann_file) if args.ann_file else {}
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise UserError(f'failed to load image {path}')
        pred = inference_pose(model, img, img_path=path).pred_instances
        h, w = img.shape[:2]
        scale = max(int(math.ceil(args.draw_size / max(h, w))), 1) if args.draw_size else 1
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        drawn = draw_pose(img, pred, args.score_thr, meta=model.dataset_meta, scale=scale,
                          caption='prediction' if truth else None)
        if osp.basename(path) in truth:  # ground truth on the left, as for detection
            gt = truth[osp.basename(path)]
            persons = SimpleNamespace(bboxes=gt['bboxes'], keypoints=gt['keypoints'],
                                      joint_visible=gt['visible'],
                                      bbox_scores=np.ones(len(gt['bboxes'])))
            left = draw_pose(img, persons, 0.0, meta=model.dataset_meta, scale=scale,
                             caption='ground truth')
            drawn = np.concatenate([left, drawn], axis=1)
        cv2.imwrite(out_file, drawn)
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
    import torch
    from mmdet.apis import inference_detector
    from mmengine.structures import InstanceData

    from mmcenternet.apis import load_detector
    from mmcenternet.datasets import coco_boxes_by_file
    from mmcenternet.visualization.det_drawing import describe_groups, group_detections
    model = load_detector(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options,
                          onnx_file=args.onnx if args.backend == 'onnxruntime' else None)
    apply_precision(model, args.precision)
    visualizer = build_visualizer(model, args.draw_size)
    classes = model.dataset_meta.get('classes', ())
    truth = coco_boxes_by_file(args.ann_file, classes) if args.ann_file else {}
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        img = mmcv.imread(path)  # BGR
        if img is None:
            raise UserError(f'failed to load image {path}')
        result = inference_detector(model, img)
        drawn = result.clone()
        if osp.basename(path) in truth:
            gt_boxes, gt_labels = truth[osp.basename(path)]
            drawn.gt_instances = InstanceData(bboxes=torch.from_numpy(gt_boxes),
                                              labels=torch.from_numpy(gt_labels))
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        visualizer.add_datasample(
            osp.basename(path), mmcv.bgr2rgb(img), data_sample=drawn, draw_gt=True,
            show=False, pred_score_thr=args.score_thr, out_file=out_file)
        pred = result.pred_instances
        keep = (pred.scores >= args.score_thr).cpu().numpy()
        boxes, scores, labels = (pred.get(k).cpu().numpy()[keep]
                                 for k in ('bboxes', 'scores', 'labels'))
        objects = describe_groups(group_detections(boxes, scores, labels), scores, labels,
                                  classes)
        found = '; '.join(objects[:6]) + ('; ...' if len(objects) > 6 else '')
        print(f'{path}: {len(objects)} object(s) >= {args.score_thr:g}'
              f'{" (" + found + ")" if found else ""} -> {out_file}')
    print(f'drawn images: {osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    run_cli(main)
