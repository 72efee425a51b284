# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference and drawing for mmcenternet pose configs without ``mmpose.apis``.

mmpose's inferencers import torchvision, which cannot be installed beside a CPU build of torch
(see docs/pose.md, "Running without torchvision"). These few functions give the same result as
``tools/test.py`` for one image: the config's test pipeline (the original's ``--keep_res`` canvas)
and the model's ``test_step`` with its flip-test setting, predictions in image pixels.
"""
import copy
import warnings
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

__all__ = ['load_pose_estimator', 'inference_pose', 'draw_pose']


def load_pose_estimator(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a pose model for inference and load its checkpoint.

    A missing file, an unconverted original checkpoint or one of another architecture raises
    :class:`~mmcenternet.utils.setup_run.UserError` with a one-line message.

    Args:
        config: Pose config path or object.
        checkpoint: Checkpoint path, or ``None`` (random weights: timing only).
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        cfg_options: Config overrides.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` (keypoint names, skeleton,
        flip indices) set.
    """
    import mmcenternet  # noqa: F401  (registers the modules)
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import DATASETS, MODELS

    from mmcenternet.utils.setup_run import (UserError, check_checkpoint_matches,
                                             is_pose_config, load_config)
    cfg = load_config(config, cfg_options)
    if not is_pose_config(cfg):
        raise UserError(f'{cfg.filename} is not a pose config (default_scope is not mmpose)')
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(f'--device {device}: no CUDA GPU is visible; use --device cpu')
    if cfg.model.get('backbone', {}).get('init_cfg') is not None:
        cfg.model.backbone.init_cfg = None  # the weights come from the checkpoint
    if checkpoint is not None:
        check_checkpoint_matches(cfg, checkpoint)
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.cfg = cfg
    dataset = cfg.test_dataloader.dataset
    dataset_cls = DATASETS.get(dataset.type)
    with warnings.catch_warnings():
        # mmpose points at its own copy of the COCO keypoint description, and says so
        warnings.simplefilter('ignore', UserWarning)
        model.dataset_meta = dataset_cls._load_metainfo(dataset.get('metainfo'))
    return model.to(device).eval()


def _array_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for images already in memory (BGR arrays)."""
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    if pipeline[0]['type'].split('.')[-1] not in ('LoadImage', 'LoadImageFromFile'):
        raise ValueError(f'the test pipeline of {cfg.filename} does not start by loading the '
                         f'image (found {pipeline[0]["type"]})')
    pipeline[0] = dict(type='LoadImage')  # mmpose's: uses results['img'] when present
    return Compose(pipeline)


@torch.no_grad()
def inference_pose(model: torch.nn.Module, img: np.ndarray, img_path: Optional[str] = None):
    """Persons and joints in one BGR image, as ``tools/test.py`` computes them.

    Returns:
        A ``PoseDataSample`` whose ``pred_instances`` hold ``keypoints`` (N, K, 2),
        ``keypoint_scores`` (N, K), ``bboxes`` (N, 4) and ``bbox_scores`` (N, ) in image pixels,
        persons in decreasing score order.
    """
    if not hasattr(model, '_centernet_array_pipeline'):
        model._centernet_array_pipeline = _array_pipeline(model.cfg)
    meta = model.dataset_meta or {}
    data = model._centernet_array_pipeline(
        dict(img=img, img_path=img_path, img_id=0, id=0, flip_indices=meta.get('flip_indices')))
    batch = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
    return model.test_step(batch)[0]


def _colour(colours, k: int, default: Tuple[int, int, int]) -> Tuple[int, int, int]:
    """A BGR tuple from mmpose's RGB palette entry ``k`` (or ``default``)."""
    if colours is None or k >= len(colours):
        return default
    r, g, b = (int(c) for c in np.asarray(colours[k]).ravel()[:3])
    return b, g, r


def draw_pose(img: np.ndarray, pred, score_thr: float = 0.3,
              skeleton: Optional[Sequence[Tuple[int, int]]] = None, meta: Optional[dict] = None,
              scale: int = 1) -> np.ndarray:
    """Draw persons with ``bbox_score >= score_thr`` (box, score, skeleton, joints) on a copy.

    Boxes are drawn between their corner extremes and cut at the picture's edge (for drawing
    only: the original neither orders nor clips predicted boxes, and the prediction is left as
    it is).

    Args:
        img: (H, W, 3) BGR image.
        pred: ``pred_instances`` of :func:`inference_pose`.
        score_thr: Smallest person score drawn.
        skeleton: Joint index pairs to connect (default: ``meta['skeleton_links']``).
        meta: mmpose dataset meta (skeleton, keypoint and link colours).
        scale: Whole factor by which the picture is enlarged (the labels stay legible).

    Returns:
        The drawn (H * scale, W * scale, 3) BGR image.
    """
    meta = meta or {}
    skeleton = skeleton if skeleton is not None else meta.get('skeleton_links', ())
    h, w = img.shape[:2]
    out = cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR) \
        if scale > 1 else img.copy()
    scores = np.asarray(pred.bbox_scores, dtype=np.float64).reshape(-1)
    boxes = np.asarray(pred.bboxes, dtype=np.float64).reshape(-1, 4) * scale
    joints = np.asarray(pred.keypoints, dtype=np.float64)
    joints = joints.reshape(len(scores), -1, 2) * scale
    thick = max(1, scale // 2)
    for i in np.flatnonzero(scores >= score_thr)[::-1]:  # best person drawn last (on top)
        x1, x2 = sorted(boxes[i, 0::2].clip(0, w * scale - 1))
        y1, y2 = sorted(boxes[i, 1::2].clip(0, h * scale - 1))
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), (0, 255, 0), thick)
        cv2.putText(out, f'person {scores[i]:.2f}', (int(x1) + 2, max(int(y1) - 4, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35 * max(1, scale / 2), (0, 255, 0), thick)
        pts = np.round(joints[i]).astype(int)
        for k, (a, b) in enumerate(skeleton):
            if a < len(pts) and b < len(pts):
                cv2.line(out, tuple(pts[a]), tuple(pts[b]),
                         _colour(meta.get('skeleton_link_colors'), k, (255, 128, 0)), thick)
        for k, p in enumerate(pts):
            cv2.circle(out, tuple(p), 2 + thick,
                       _colour(meta.get('keypoint_colors'), k, (0, 0, 255)), -1)
    return out
