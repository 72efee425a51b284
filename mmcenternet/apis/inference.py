# Copyright (c) mmcenternet contributors. All rights reserved.
"""Inference with mmcenternet detection configs, whole or stage by stage.

mmdet's own entry points work with every mmcenternet detection config and checkpoint::

    from mmdet.apis import DetInferencer, inference_detector, init_detector

    model = init_detector('configs/demo/ctdet_r18_shapes.py', 'work_dirs/demo/epoch_12.pth',
                          device='cpu')
    result = inference_detector(model, 'data/demo/val/val_00000.png')  # a DetDataSample

This module adds what those do not offer: :func:`load_detector` (mmdet's ``init_detector`` with
mmcenternet's checks of the config and checkpoint) and :class:`StagedDetector`, which runs the
test path in CenterNet's four timed stages (pre-processing, network, decoding, post-processing)
for the speed tool and the heatmap browser. Its result is exactly ``model.test_step``'s.
"""
import copy
import time
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

__all__ = ['load_detector', 'array_test_pipeline', 'StagedDetector', 'sync_device']


def sync_device(device: Union[str, torch.device]) -> None:
    """Wait for queued GPU work, so that a timer read afterwards includes it."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def load_detector(config: Union[str, Config],
                  checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  cfg_options: Optional[dict] = None,
                  onnx_file: Optional[str] = None,
                  threads: Optional[int] = None) -> torch.nn.Module:
    """Build a detector for inference, as mmdet's ``init_detector`` does.

    A missing file, an original (unconverted) CenterNet checkpoint or one of another architecture
    or class count raises :class:`~mmcenternet.utils.errors.UserError` with a one-line
    message. Without a checkpoint the weights stay random (useful for timing only).

    Args:
        config: Config path or object.
        checkpoint: Checkpoint path, or ``None``.
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        cfg_options: Config overrides.
        onnx_file: Raw-maps ONNX export of this config: the network runs in onnxruntime
            (the backend ``CenterNetOnnxRuntimeModel`` of :mod:`mmcenternet.deployment`),
            everything else as in PyTorch; ``checkpoint`` and ``device`` are then not used.
        threads: onnxruntime's intra-op threads (with ``onnx_file``).

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` set.
    """
    from mmdet.apis import init_detector

    from mmcenternet.utils.cli import UserError, is_pose_config, load_config
    from mmcenternet.utils.config_checks import check_checkpoint_matches, config_classes
    cfg = load_config(config, cfg_options)
    if is_pose_config(cfg):
        raise UserError(f'{cfg.filename} is a pose config; this tool handles detection configs '
                        '(use tools/test.py for pose models)')
    if onnx_file is not None:
        from mmengine.registry import MODELS, init_default_scope
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        model = MODELS.build(dict(type='CenterNetOnnxRuntimeModel', onnx_file=onnx_file,
                                  model=cfg.model, config_name=cfg.filename, threads=threads))
        model.cfg = cfg
        classes = config_classes(cfg)
        model.dataset_meta = dict(classes=tuple(classes)) if classes else {}
        return model
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(f'--device {device}: no CUDA GPU is visible; use --device cpu')
    # No download of ImageNet weights for a model whose weights come from a checkpoint.
    if cfg.model.get('backbone', {}).get('init_cfg') is not None:
        cfg.model.backbone.init_cfg = None
    if checkpoint is not None:
        check_checkpoint_matches(cfg, checkpoint)
    import warnings
    with warnings.catch_warnings():
        # Without a checkpoint mmdet warns that the COCO class names are used; we set ours.
        warnings.simplefilter('ignore', UserWarning)
        model = init_detector(cfg, checkpoint, device=device)
    if checkpoint is None or not model.dataset_meta.get('classes'):
        classes = config_classes(cfg)
        if classes is not None:
            model.dataset_meta = dict(classes=tuple(classes))
    return model


def array_test_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline, reading images that are already in memory (BGR arrays)."""
    from mmdet.utils import get_test_pipeline_cfg
    pipeline = copy.deepcopy(get_test_pipeline_cfg(cfg))
    pipeline = [t for t in pipeline if t['type'].split('.')[-1] != 'LoadAnnotations']
    pipeline[0] = dict(type='mmdet.LoadImageFromNDArray')
    return Compose(pipeline)


class StagedDetector:
    """Run a CenterNet detector's test path in separately timed stages.

    The stages are those of the original's ``--debug`` timing (``pre``, ``net``, ``dec``,
    ``post``): the test pipeline and data pre-processor (normalisation, padding, copy to the
    device), the network (backbone, neck and head convolutions), the decoding of the last stack's
    maps (sigmoid, 3x3 peak test, top-K, boxes in input pixels) and the post-processing (boxes
    back to the image, per-image results). ``__call__`` returns the same ``DetDataSample`` as
    ``model.test_step``.

    Args:
        model: A model from :func:`load_detector` (or mmdet's ``init_detector``).
    """

    STAGES = ('pre', 'net', 'dec', 'post')

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.head = model.bbox_head
        self.device = next(model.parameters()).device
        self.pipeline = array_test_pipeline(model.cfg)

    def preprocess(self, img: np.ndarray, img_path: Optional[str] = None) -> Tuple[torch.Tensor,
                                                                                   list]:
        """Test pipeline + data pre-processor for one BGR image."""
        data = self.pipeline(dict(img=img, img_id=0, img_path=img_path))
        if img_path is not None:
            data['data_samples'].set_metainfo(dict(img_path=img_path))
        batch = self.model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
        return batch['inputs'], batch['data_samples']

    def network(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Raw head maps, stack-major (``hm`` logits, ``wh``, ``reg`` per stack)."""
        return self.model._forward(inputs)

    def decode(self, outs: Tuple[torch.Tensor, ...]):
        """The head's tensor-only decoding of the last stack (ctdet: boxes in input pixels,
        scores and labels, top-K per image)."""
        return self.head.decode_outputs(outs)

    def postprocess(self, decoded, data_samples: list) -> list:
        """Boxes back to the original image; results as ``DetDataSample`` (on the CPU)."""
        metas = [s.metainfo for s in data_samples]
        results = self.head.results_from_decoded(decoded, metas, rescale=True)
        results = [r.cpu() for r in results]
        return self.model.add_pred_to_datasample(data_samples, results)

    @torch.no_grad()
    def __call__(self, img: np.ndarray, img_path: Optional[str] = None,
                 timings: Optional[Dict[str, List[float]]] = None):
        """Detect objects in one BGR image; add per-stage seconds to ``timings`` if given."""
        steps: List[Tuple[str, Callable]] = [
            ('pre', lambda _: self.preprocess(img, img_path)),
            ('net', lambda prev: (self.network(prev[0]), prev[1])),
            ('dec', lambda prev: (self.decode(prev[0]), prev[1])),
            ('post', lambda prev: self.postprocess(prev[0], prev[1])),
        ]
        value = None
        for name, step in steps:
            start = time.perf_counter()
            value = step(value)
            sync_device(self.device)
            if timings is not None:
                timings.setdefault(name, []).append(time.perf_counter() - start)
        return value[0]
