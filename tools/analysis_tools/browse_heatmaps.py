# Copyright (c) mmcenternet contributors. All rights reserved.
"""See what the network sees: ground-truth (and predicted) centre heatmaps as PNG files.

For each chosen image of a detection config's dataset the tool writes

* ``<split>_<index>_<name>_gt.png``: the network input after the train (or test) pipeline, with
  the ground-truth centre heatmap that the loss uses (maximum over classes, coloured) and the
  ground-truth boxes with their class names; and, with ``--checkpoint``,
* ``<split>_<index>_<name>_pred.png``: the test-pipeline input twice, on the left with the
  ground-truth heatmap, on the right with the predicted one (sigmoid, maximum over classes), its
  peaks (crosses: 3x3 local maxima >= ``--score-thr``, the cells the decoder keeps) and the
  predicted boxes with score >= ``--score-thr`` (one per object, as the other drawing tools).

It also prints a line per image with the numbers to check first when a model learns nothing
(the original author's advice for "AP = 0" was to look at exactly these maps): how many objects
reach the heatmap, its peak values, and the model's highest score.

Examples:
    python tools/analysis_tools/browse_heatmaps.py configs/demo/ctdet_r18_shapes.py
    python tools/analysis_tools/browse_heatmaps.py configs/demo/ctdet_r18_shapes.py \\
        --checkpoint work_dirs/demo/epoch_12.pth --split test --index 0 1 2
    python tools/analysis_tools/browse_heatmaps.py my_config.py --index 5 --seed 1 \\
        --out-dir work_dirs/heatmaps
"""
import argparse
import copy
import math
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.cli import UserError, is_pose_config, load_config, run_cli  # noqa: E402
from mmcenternet.utils.config_checks import check_data_paths  # noqa: E402
from mmcenternet.visualization.det_drawing import draw_detections, label_scale  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Save pipeline inputs with ground-truth / predicted heatmaps as PNG files')
    parser.add_argument('config', help='detection config file')
    parser.add_argument('--checkpoint', help='also show the heatmaps this model predicts')
    parser.add_argument('--split', choices=['train', 'test'], default='train',
                        help='dataset and pipeline: train (augmented, as the loss sees it) or '
                        'test')
    parser.add_argument('--index', type=int, nargs='+', default=[0],
                        help='dataset indices of the images to show')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed of the train augmentation (per image: seed + index)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='draw predicted boxes with at least this score')
    parser.add_argument('--out-dir', default='outputs/heatmaps', help='folder for the PNG files')
    parser.add_argument('--draw-size', type=int, default=512,
                        help='enlarge small inputs by a whole factor to about this many pixels')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- drawing
def overlay_heatmap(img: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """Blend a [0, 1] heatmap (any size) onto a BGR image, opaque where the heat is high."""
    h, w = img.shape[:2]
    heat = cv2.resize(np.clip(heat, 0, 1).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_NEAREST)
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
    alpha = (0.15 + 0.75 * heat)[..., None] * (heat > 0.01)[..., None]
    return (img * (1 - alpha) + colour * alpha).astype(np.uint8)


def heat_peaks(heat: np.ndarray, thr: float) -> np.ndarray:
    """(K, 2) ``x, y`` cells that are 3x3 local maxima of ``heat`` (H, W) with value >= thr,
    the peaks the decoder keeps (its max-pool test, over the class maximum here)."""
    pooled = cv2.dilate(heat.astype(np.float32), np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((heat >= pooled) & (heat >= thr))
    return np.stack([xs, ys], 1)


def mark_peaks(img: np.ndarray, heat: np.ndarray, thr: float) -> int:
    """Draw a white-rimmed cross on each peak of ``heat`` (cells spread over ``img``), in place;
    returns how many were marked."""
    h, w = img.shape[:2]
    cell_w, cell_h = w / heat.shape[1], h / heat.shape[0]
    peaks = heat_peaks(heat, thr)
    size = max(int(min(cell_w, cell_h) * 1.5), 5)
    for x, y in peaks:
        centre = (int((x + 0.5) * cell_w), int((y + 0.5) * cell_h))
        cv2.drawMarker(img, centre, (255, 255, 255), cv2.MARKER_CROSS, size + 2, 4)
        cv2.drawMarker(img, centre, (0, 0, 0), cv2.MARKER_CROSS, size, 2)
    return len(peaks)


def titled(img: np.ndarray, title: str) -> np.ndarray:
    scale = label_scale(*img.shape[:2])
    (_, th), base = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    bar = np.full((th + base + 10, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (4, th + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.vstack([bar, img])


def panel(img: np.ndarray, heat: np.ndarray, boxes, labels, classes, title: str,
          draw_size: int, scores=None, peak_thr: Optional[float] = None) -> np.ndarray:
    """The image enlarged, the heatmap over it, its peaks (``peak_thr``) and the boxes."""
    h, w = img.shape[:2]
    factor = max(int(math.ceil(draw_size / max(h, w))), 1) if draw_size else 1
    big = cv2.resize(img, (w * factor, h * factor), interpolation=cv2.INTER_LINEAR)
    big = overlay_heatmap(big, heat)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) * factor
    big = draw_detections(big, boxes, scores, labels, score_thr=-1.0, classes=classes)
    if peak_thr is not None:
        mark_peaks(big, heat, peak_thr)
    return titled(big, title)


# ----------------------------------------------------------------------------- data
def input_image(packed: dict) -> np.ndarray:
    """The pipeline's image tensor (C, H, W, BGR as loaded) as a uint8 HWC array."""
    img = packed['inputs'].permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))


def gt_of(packed: dict) -> Tuple[np.ndarray, np.ndarray]:
    gt = packed['data_samples'].gt_instances
    boxes = getattr(gt.bboxes, 'tensor', gt.bboxes)
    return boxes.cpu().numpy().reshape(-1, 4), gt.labels.cpu().numpy().reshape(-1)


def with_annotations(pipeline: List[dict]) -> List[dict]:
    """A test pipeline that also loads and moves the ground-truth boxes."""
    pipeline = copy.deepcopy(pipeline)
    if not any('LoadAnnotations' in t['type'] for t in pipeline):
        pipeline.insert(1, dict(type='LoadAnnotations', with_bbox=True))
    return pipeline


class HeatmapBrowser:
    """Ground-truth heatmaps as the head's target generator makes them, and predicted ones."""

    def __init__(self, cfg, split: str, checkpoint: Optional[str], device: str) -> None:
        from mmdet.registry import DATASETS, TASK_UTILS
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        self.cfg = cfg
        head = cfg.model.get('bbox_head', {})
        self.num_classes = int(head.get('num_classes', 80))
        self.stride = int(head.get('stride', 4))
        self.divisor = int(cfg.model.get('data_preprocessor', {}).get('pad_size_divisor', 1) or 1)
        self.targets = TASK_UTILS.build(
            head.get('target_generator', dict(type='CenterNetTargetGenerator')))
        loader = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
        ds_cfg = copy.deepcopy(loader.dataset)
        if split == 'test':
            ds_cfg.pipeline = with_annotations(ds_cfg.pipeline)
        self.dataset = DATASETS.build(ds_cfg)
        self.classes = tuple(self.dataset.metainfo.get('classes', ()))
        test_ds = cfg.test_dataloader.dataset
        while 'dataset' in test_ds:
            test_ds = test_ds.dataset
        self.test_pipeline = Compose(with_annotations(test_ds.pipeline))
        self.model = None
        if checkpoint is not None:
            from mmcenternet.apis import load_detector
            self.model = load_detector(cfg, checkpoint, device=device)
            self.classes = self.classes or tuple(self.model.dataset_meta.get('classes', ()))

    def gt_heatmap(self, img_hw: Sequence[int], boxes: np.ndarray,
                   labels: np.ndarray) -> np.ndarray:
        """Max over classes of the training target, for an input of ``img_hw`` pixels."""
        h = int(math.ceil(img_hw[0] / self.divisor) * self.divisor)
        w = int(math.ceil(img_hw[1] / self.divisor) * self.divisor)
        out_hw = (h // self.stride, w // self.stride)
        t = self.targets([torch.as_tensor(boxes, dtype=torch.float32)],
                         [torch.as_tensor(labels, dtype=torch.int64)], self.num_classes, out_hw,
                         stride=self.stride)
        hm = t['hm'][0].max(0).values.numpy()
        # crop the padding off again so that the map lines up with the unpadded input
        return hm[:int(math.ceil(img_hw[0] / self.stride)), :int(math.ceil(img_hw[1] /
                                                                           self.stride))]

    @torch.no_grad()
    def predicted(self, packed: dict) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Predicted heatmap (max over classes) and decoded boxes in input pixels."""
        model = self.model
        batch = model.data_preprocessor(
            dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]), False)
        outs = model._forward(batch['inputs'])
        maps = model.bbox_head.split_stacks(outs)[-1]
        probs = maps['hm'].sigmoid()
        boxes, scores, labels = model.bbox_head.decode_maps(probs, maps['wh'], maps.get('reg'))
        img_h, img_w = packed['inputs'].shape[-2:]
        heat = probs[0].max(0).values.cpu().numpy()
        heat = heat[:int(math.ceil(img_h / self.stride)), :int(math.ceil(img_w / self.stride))]
        return heat, boxes[0].cpu().numpy(), scores[0].cpu().numpy(), labels[0].cpu().numpy()


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if is_pose_config(cfg):
        raise UserError(f'{args.config} is a pose config; this tool shows detection heatmaps')
    check_data_paths(cfg, ['train_dataloader' if args.split == 'train' else 'test_dataloader'])
    browser = HeatmapBrowser(cfg, args.split, args.checkpoint, args.device)
    n = len(browser.dataset)
    bad = [i for i in args.index if not 0 <= i < n]
    if bad:
        raise UserError(f'--index {bad[0]} is outside the {args.split} set ({n} images)')
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for idx in args.index:
        np.random.seed(args.seed + idx)  # the train augmentation draws from NumPy's generator
        packed = browser.dataset[idx]
        info = browser.dataset.get_data_info(idx)
        stem = f'{args.split}_{idx}_{osp.splitext(osp.basename(info["img_path"]))[0]}'
        img = input_image(packed)
        boxes, labels = gt_of(packed)
        heat = browser.gt_heatmap(img.shape[:2], boxes, labels)
        peaks = int((heat >= 1.0).sum())
        title = (f'{args.split} input {img.shape[1]}x{img.shape[0]}: GT heatmap (max over '
                 f'{browser.num_classes} classes), {len(boxes)} boxes')
        gt_png = osp.join(args.out_dir, stem + '_gt.png')
        cv2.imwrite(gt_png, panel(img, heat, boxes, labels, browser.classes, title,
                                  args.draw_size))
        written.append(gt_png)
        line = (f'{info["img_path"]} [{args.split} #{idx}]: {len(boxes)} GT boxes, '
                f'{peaks} heatmap peaks (value 1)')
        if browser.model is not None:
            test_packed = browser.test_pipeline(copy.deepcopy(info))
            timg = input_image(test_packed)
            tboxes, tlabels = gt_of(test_packed)
            theat = browser.gt_heatmap(timg.shape[:2], tboxes, tlabels)
            pheat, pboxes, pscores, plabels = browser.predicted(test_packed)
            keep = pscores >= args.score_thr
            left = panel(timg, theat, tboxes, tlabels, browser.classes,
                         f'test input: GT heatmap, {len(tboxes)} boxes', args.draw_size)
            npeaks = len(heat_peaks(pheat, args.score_thr))
            right = panel(timg, pheat, pboxes[keep], plabels[keep], browser.classes,
                          f'predicted heatmap (max {pheat.max():.2f}), {npeaks} peak(s) (+) '
                          f'>= {args.score_thr:g}', args.draw_size, pscores[keep],
                          peak_thr=args.score_thr)
            pred_png = osp.join(args.out_dir, stem + '_pred.png')
            cv2.imwrite(pred_png, np.hstack([left, np.full((left.shape[0], 6, 3), 255,
                                                           np.uint8), right]))
            written.append(pred_png)
            line += (f'; predicted heatmap max {pheat.max():.3f}, {int(keep.sum())} '
                     f'detection(s) >= {args.score_thr:g}')
        print(line)
    for path in written:
        print(f'wrote {path}')


if __name__ == '__main__':
    run_cli(main)
