# Copyright (c) mmcenternet contributors. All rights reserved.
"""The interface every CenterNet task head offers to the code that consumes heads.

Three consumers use a head besides training: the test-time augmentation models
(:mod:`mmcenternet.models.test_time_augs`), the inference API (:mod:`mmcenternet.apis`) and the
ONNX exporter (:mod:`mmcenternet.deployment`). They call only the members below and never ask
which task a head solves; a new task is a new head implementing them (docs/architecture.md).
"""
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch.nn as nn
from torch import Tensor

__all__ = ['CenterNetTaskHead', 'task_head_of', 'resolve_test_cfg', 'renamed_loss_cfg']


class CenterNetTaskHead:
    """Mixin of the ``ctdet``, ``exdet`` and ``multi_pose`` heads: their public test interface.

    Attributes:
        task: The original's task name (``'ctdet'``, ``'exdet'``, ``'multi_pose'``), written into
            exported files' metadata.
        TEST_DEFAULTS: The head's test settings and their defaults. ``self.test_cfg`` (the
            model's ``test_cfg``) is their one home: it is completed with these at construction.
        FLIP_RULES: ``{branch: rule}`` of the flip test
            (:func:`~mmcenternet.models.utils.flip.merge_flip_maps`).
        head_module: The :class:`CenterNetHeadModule` (branch layout ``heads``, ``num_stacks``).
        stride: Input pixels per output-map pixel.
    """

    task: str = ''
    TEST_DEFAULTS: Dict[str, Any] = {}
    FLIP_RULES: Dict[str, str] = {}

    # ---------------------------------------------------------------- shared implementation
    def last_stack_maps(self, outs: Sequence[Tensor]) -> Dict[str, Tensor]:
        """``{branch: map}`` of the last stack, in float32 whatever precision the network ran in
        (sigmoid and decoding stay fp32 under fp16 / bf16 / AMP). Heat maps are still logits."""
        return {name: m.float() for name, m in self.head_module.split(outs)[-1].items()}

    # ---------------------------------------------------------------- to implement
    def decode_outputs(self, outs: Sequence[Tensor]) -> Any:
        """Tensor-only decoding of the raw network output (no meta information).

        Args:
            outs: The flat raw maps of ``forward`` (all stacks; the last one is decoded).

        Returns:
            The task's decoded tensors in network-input pixels, as
            :meth:`results_from_decoded` takes them.
        """
        raise NotImplementedError

    def results_from_decoded(self, decoded: Any, batch_img_metas: List[dict],
                             rescale: bool = True) -> list:
        """Per-image ``InstanceData`` from :meth:`decode_outputs`' output, mapped back to the
        image when ``rescale`` (the task's post-processing)."""
        raise NotImplementedError

    def tta_predict_view(self, model: nn.Module, inputs: Tensor, samples: Sequence,
                         flip: bool) -> list:
        """One test-time view (one scale) of a batch, with its mirror when ``flip``.

        Args:
            model: The detector / estimator (``extract_feat`` is used).
            inputs: (B, 3, H, W) pre-processed images of this view.
            samples: Their data samples (``metainfo`` maps back to the image).
            flip: Add the mirrored images (the original's flip test).

        Returns:
            Per image, the view's predictions in image pixels, as :meth:`tta_merge` takes them.
        """
        raise NotImplementedError

    def tta_merge(self, views: Sequence, soft_nms: Optional[dict] = None,
                  max_per_img: Optional[int] = None, nms_single_scale: bool = False):
        """Merge the views of one image as the original's ``merge_outputs`` does.

        Args:
            views: The image's :meth:`tta_predict_view` results, in scale order.
            soft_nms: Soft-NMS settings (:func:`~mmcenternet.models.utils.soft_nms.
                soft_nms_settings`).
            max_per_img: Final number of detections, where the task has a cut.
            nms_single_scale: Soft-NMS with a single view too (the original's ``--nms``).

        Returns:
            The merged ``InstanceData`` of the image.
        """
        raise NotImplementedError

    def export_decoder(self, test_cfg: Optional[dict] = None) -> nn.Module:
        """The task's decoding as an exportable module (:mod:`mmcenternet.models.export_decoders`)
        taking the flat raw maps, with ``output_names``, ``rows`` and ``metadata()``.

        Args:
            test_cfg: Overrides of the head's test settings (``topk``, ...).
        """
        raise NotImplementedError


def resolve_test_cfg(head_name: str, test_cfg: Optional[Mapping], defaults: Mapping[str, Any],
                     legacy: Optional[Mapping[str, Any]] = None,
                     legacy_owner: str = 'the coder') -> dict:
    """``test_cfg`` completed with ``defaults``: the one home of a head's test settings.

    Args:
        head_name: The head's class name (messages).
        test_cfg: The model's ``test_cfg``.
        defaults: ``{setting: default}``.
        legacy: Settings given to the head's coder / decoder (their former second home): used
            with a deprecation warning where ``test_cfg`` lacks them, refused where both are set
            to different values.
        legacy_owner: How to name the coder in messages.
    """
    cfg = dict(test_cfg or {})
    for key, value in (legacy or {}).items():
        if value is None:
            continue
        if key in cfg and cfg[key] != value:
            raise ValueError(f'{head_name}: {key} is set twice, {key}={cfg[key]!r} in test_cfg and '
                             f'{key}={value!r} in {legacy_owner}; set it in test_cfg only')
        if key not in cfg:
            warnings.warn(f'{head_name}: {key} in {legacy_owner} is deprecated; set '
                          f'test_cfg.{key} instead', DeprecationWarning)
            cfg[key] = value
    for key, value in defaults.items():
        cfg.setdefault(key, value)
    return cfg


def task_head_of(model: nn.Module) -> Optional[CenterNetTaskHead]:
    """The CenterNet task head of a detector (``bbox_head``) or pose estimator (``head``), or
    ``None`` for other models (which the exporter still exports as raw maps)."""
    for name in ('bbox_head', 'head'):
        head = getattr(model, name, None)
        if isinstance(head, CenterNetTaskHead):
            return head
    return None


def renamed_loss_cfg(head_name: str, new: str, new_cfg: Optional[dict], old: str,
                     old_cfg: Optional[dict]) -> Optional[dict]:
    """The loss config of a renamed head argument: ``new_cfg`` updated with the deprecated
    ``old_cfg`` (a whole config or a partial override, as a config inheriting an older base
    writes it), with a deprecation warning when ``old_cfg`` is given."""
    if old_cfg is None:
        return new_cfg
    warnings.warn(f'{head_name}: {old} is deprecated; name the loss {new}', DeprecationWarning)
    merged = dict(new_cfg or {})
    merged.update(old_cfg)
    return merged
