# Copyright (c) mmcenternet contributors. All rights reserved.
"""Functions shared by the exporter and the onnxruntime backend (no onnx import at load time)."""
import hashlib
import importlib
from typing import Dict, List, Optional, Sequence

import torch.nn as nn

from mmcenternet.models.dense_heads.task_head import task_head_of
from mmcenternet.utils.errors import UserError

__all__ = [
    'INSTALL_HINT', 'require', 'size_divisor', 'check_input_shape', 'find_head', 'head_layout',
    'raw_output_names', 'model_signature', 'META_PREFIX', 'task_of'
]

INSTALL_HINT = "pip install -e '.[deploy]' (or: pip install onnx onnxruntime)"
#: Prefix of the ONNX ``metadata_props`` keys written by the exporter.
META_PREFIX = 'mmcenternet.'


def require(package: str):
    """Import ``package`` (``onnx`` or ``onnxruntime``) or fail naming what to install."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise UserError(f'the ONNX tools need the `{package}` package, which is not installed '
                        f'({exc}); install the deploy extra: {INSTALL_HINT}') from None


def size_divisor(cfg) -> int:
    """What input sides must be a multiple of: the largest of the data preprocessor's
    ``pad_size_divisor`` and the test pipeline's ``CenterNetPad`` block (``size_mask + 1``)."""
    div = int(cfg.model.get('data_preprocessor', {}).get('pad_size_divisor', 1) or 1)
    loader = cfg.get('test_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or []
    for t in pipeline:
        if isinstance(t, dict) and t.get('type') == 'CenterNetPad':
            div = max(div, int(t.get('size_mask', 31)) + 1)
    return div


def check_input_shape(height: int, width: int, divisor: int, what: str) -> None:
    """Raise :class:`UserError` unless both sides are positive multiples of ``divisor``."""
    if height <= 0 or width <= 0 or height % divisor or width % divisor:
        raise UserError(
            f'input size {height}x{width} (H x W) breaks the padding rule of {what}: height and '
            f'width must be positive multiples of {divisor} (the test pipeline pads every image '
            f'to such a size), e.g. {max(divisor, (height // divisor) * divisor)}x'
            f'{max(divisor, (width // divisor) * divisor)}')


def find_head(model: nn.Module) -> Optional[nn.Module]:
    """The CenterNet task head of a detector or pose estimator, else ``None``."""
    return task_head_of(model)


def head_layout(model: nn.Module) -> Optional[Dict]:
    """``{'heads': {branch: channels}, 'num_stacks': n}`` of a CenterNet-style head, else None."""
    head = find_head(model)
    module = getattr(head, 'head_module', None)
    heads = getattr(module, 'heads', None)
    if not isinstance(heads, dict):
        return None
    return dict(heads={str(k): int(v) for k, v in heads.items()},
                num_stacks=int(getattr(module, 'num_stacks', 1)))


def raw_output_names(layout: Optional[Dict], count: int) -> List[str]:
    """Names of the raw maps: ``hm, wh, reg`` (one stack) or ``hm_0, ..., reg_1`` (stacks)."""
    if layout is not None and len(layout['heads']) * layout['num_stacks'] == count:
        if layout['num_stacks'] == 1:
            return list(layout['heads'])
        return [f'{h}_{s}' for s in range(layout['num_stacks']) for h in layout['heads']]
    return [f'output_{i}' for i in range(count)]


def model_signature(model: nn.Module) -> str:
    """A digest of the parameter and buffer names and shapes (not their values).

    Two models with the same signature have the same architecture; the exporter stores it and
    the onnxruntime backend compares it with the model of the config it is given.
    """
    lines: Sequence[str] = sorted(
        f'{k}:{tuple(v.shape)}' for k, v in model.state_dict().items()
        if not k.startswith('data_preprocessor.'))
    return hashlib.sha256('\n'.join(lines).encode()).hexdigest()[:16]


def task_of(model: nn.Module) -> str:
    """The task of the model's CenterNet head (``head.task``), or ``generic``."""
    head = task_head_of(model)
    return head.task if head is not None and head.task else 'generic'
