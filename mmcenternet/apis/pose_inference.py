# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference and drawing for mmcenternet pose configs without ``mmpose.apis``.

mmpose's inferencers import torchvision, which cannot be installed beside a CPU build of torch
(see docs/pose.md, "Running without torchvision"). These few functions give the same result as
``tools/test.py`` for one image: the config's test pipeline (the original's ``--keep_res`` canvas)
and the model's ``test_step`` with its flip-test setting, predictions in image pixels.
:func:`draw_pose` (from :mod:`mmcenternet.visualization.pose_drawing`) draws them.
"""
import copy
import warnings
from typing import Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from mmcenternet.visualization.pose_drawing import draw_pose  # noqa: F401  (re-exported)

__all__ = ['load_pose_estimator', 'inference_pose', 'draw_pose']


def load_pose_estimator(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None,
                        onnx_file: Optional[str] = None) -> torch.nn.Module:
    """Build a pose model for inference and load its checkpoint (or run an ONNX export).

    A missing file, an unconverted original checkpoint or one of another architecture raises
    :class:`~mmcenternet.utils.errors.UserError` with a one-line message.

    Args:
        config: Pose config path or object.
        checkpoint: Checkpoint path, or ``None`` (random weights: timing only).
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        cfg_options: Config overrides.
        onnx_file: Raw-maps ONNX export of this config (``tools/deployment/export_onnx.py
            --dynamic``): the network runs in onnxruntime, everything else as in PyTorch
            (``checkpoint`` is then not used).

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` (keypoint names, skeleton,
        flip indices) set.
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import DATASETS, MODELS

    from mmcenternet.utils.cli import UserError, is_pose_config, load_config
    from mmcenternet.utils.config_checks import check_checkpoint_matches
    cfg = load_config(config, cfg_options)
    if not is_pose_config(cfg):
        raise UserError(f'{cfg.filename} is not a pose config (default_scope is not mmpose)')
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(f'--device {device}: no CUDA GPU is visible; use --device cpu')
    if cfg.model.get('backbone', {}).get('init_cfg') is not None:
        cfg.model.backbone.init_cfg = None  # the weights come from the checkpoint
    init_default_scope('mmpose')
    if onnx_file is not None:
        # the onnxruntime backend is registered by mmcenternet.deployment
        model = MODELS.build(dict(type='CenterNetOnnxRuntimeModel', onnx_file=onnx_file,
                                  model=cfg.model, config_name=cfg.filename))
        device = 'cpu'  # onnxruntime holds the network; the rest runs on the CPU
    else:
        if checkpoint is not None:
            check_checkpoint_matches(cfg, checkpoint)
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
