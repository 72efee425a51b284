# Copyright (c) mmcenternet contributors. All rights reserved.
"""Conversion of original CenterNet checkpoints (xingyizhou/CenterNet) to mmcenternet keys.

The original files are ``torch.save({'epoch', 'state_dict'[, 'optimizer']})`` with the bare
network's keys, sometimes prefixed by ``module.``. Architecture and task are read from the keys:

=============  ==========================================  =====================================
architecture   recognised by                               target modules
=============  ==========================================  =====================================
``dla_34``     ``base.base_layer.*`` + DCN ``dla_up.*``    ``DLA`` + ``DLAUpNeck``
``resdcn_N``   ``layer1.*`` + ``deconv_layers.0.conv_      mmdet ``ResNet`` + ``CTResNetNeck``
               offset_mask.*``
``hourglass``  ``pre.*`` + ``kps.*``                       mmdet ``HourglassNet``
=============  ==========================================  =====================================

Tasks: ``hps.*`` -> ``multi_pose``; ``hm_t.*`` -> ``exdet``; ``hm.*`` -> ``ctdet``.

Mapping rules (besides prefixes): DCN ``conv_offset_mask`` -> mmcv's ``conv_offset`` (same channel
layout); DLA's unused ImageNet classifier ``base.fc`` is dropped; the ResNet-DCN neck's DCN bias,
which mmdet's ``CTResNetNeck`` does not have because a BatchNorm follows, is folded into that
BatchNorm (``running_mean -= bias``, exact in eval mode and irrelevant in train mode); head branches
``<name>.{0,2}`` become ``head_module.<name>.<stack>.{0,2}``.
"""
import io
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .checkpoint_io import AtomicLocalBackend, torch_load

__all__ = ['OfficialCheckpointError', 'load_official_state_dict', 'detect_architecture',
           'convert_state_dict', 'convert_checkpoint']

HEAD_NAMES = ('hm', 'wh', 'reg', 'hps', 'hm_hp', 'hp_offset', 'hm_t', 'hm_l', 'hm_b', 'hm_r',
              'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r', 'dep', 'rot', 'dim')
RESNET_DEPTHS = {
    ('basic', (2, 2, 2, 2)): 18,
    ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50,
    ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
}


class OfficialCheckpointError(ValueError):
    """The file is not an original CenterNet checkpoint of a supported architecture."""


def load_official_state_dict(path: str) -> Tuple[Dict[str, Tensor], dict]:
    """Read an original checkpoint with the weights-only reader.

    Args:
        path: File written by the original ``save_model`` (legacy or zip serialisation), or a bare
            state dict.

    Returns:
        ``(state_dict without 'module.' prefixes, info)``, ``info`` holding ``epoch`` if present.
    """
    ckpt = torch_load(path, map_location='cpu', allow_pickle=False)
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        sd, info = ckpt['state_dict'], {'epoch': ckpt.get('epoch')}
    elif isinstance(ckpt, dict) and ckpt and all(isinstance(v, Tensor) for v in ckpt.values()):
        sd, info = ckpt, {}
    else:
        raise OfficialCheckpointError(
            f'{path} is not a CenterNet checkpoint: expected a dict with a "state_dict" entry, '
            f'found {type(ckpt).__name__} with keys {list(ckpt)[:5] if isinstance(ckpt, dict) else ""}')
    out = OrderedDict()
    for key, value in sd.items():
        if key.startswith('module') and not key.startswith('module_list'):
            key = key[7:]
        out[key] = value
    return out, info


def detect_architecture(sd: Dict[str, Tensor]) -> dict:
    """Infer ``arch``, ``task``, class count and (ResNet) depth from original keys.

    Raises:
        OfficialCheckpointError: for unknown layouts (named in the message).
    """
    keys = set(sd)
    if 'base.base_layer.0.weight' in keys:
        if not any(k.endswith('conv_offset_mask.weight') for k in keys):
            raise OfficialCheckpointError(
                'DLA checkpoint without deformable convolutions (arch dlav0_34) is not supported')
        arch, depth = 'dla', 34
    elif 'pre.0.conv.weight' in keys and any(k.startswith('kps.') for k in keys):
        arch, depth = 'hourglass', 104
    elif 'conv1.weight' in keys and 'layer1.0.conv1.weight' in keys:
        if 'deconv_layers.0.conv_offset_mask.weight' not in keys:
            raise OfficialCheckpointError(
                'ResNet checkpoint without deformable up-sampling (arch res_18/res_101) is not '
                'supported; only resdcn_* models are')
        block = 'bottleneck' if 'layer1.0.conv3.weight' in keys else 'basic'
        counts = tuple(
            1 + max(int(m.group(1)) for m in (re.match(rf'layer{s}\.(\d+)\.', k) for k in keys)
                    if m) for s in range(1, 5))
        if (block, counts) not in RESNET_DEPTHS:
            raise OfficialCheckpointError(f'unknown ResNet layout {block} blocks {counts}')
        arch, depth = 'resdcn', RESNET_DEPTHS[(block, counts)]
    else:
        raise OfficialCheckpointError(
            'unrecognised checkpoint layout: none of DLA-34 (base.base_layer.*), ResNet-DCN '
            '(conv1.*, layer1.*, deconv_layers.*) or Hourglass (pre.*, kps.*) keys found; '
            f'first keys: {sorted(keys)[:6]}')
    heads = _head_channels(sd, arch)
    if 'hps' in heads:
        task = 'multi_pose'
    elif 'hm_t' in heads:
        task = 'exdet'
    elif 'hm' in heads:
        task = 'ctdet'
    else:
        raise OfficialCheckpointError(f'no CenterNet head found (heads: {sorted(heads)})')
    num_classes = heads['hm_c'] if task == 'exdet' else heads['hm']
    num_stacks = 2 if arch == 'hourglass' else 1
    return dict(arch=arch, depth=depth, task=task, heads=heads, num_classes=num_classes,
                num_stacks=num_stacks)


def _head_channels(sd: Dict[str, Tensor], arch: str) -> Dict[str, int]:
    heads = {}
    for name in HEAD_NAMES:
        # Last conv of the branch: "<h>.2.weight" (DLA/ResNet), "<h>.0.1.weight" (hourglass),
        # or "<h>.weight" without head_conv.
        for key in (f'{name}.2.weight', f'{name}.0.1.weight', f'{name}.weight'):
            if key in sd:
                heads[name] = int(sd[key].shape[0])
                break
    return heads


def _convert_head_key(key: str, arch: str, head_prefix: str) -> Optional[str]:
    name = key.split('.')[0]
    if name not in HEAD_NAMES:
        return None
    rest = key[len(name) + 1:]
    if arch == 'hourglass':
        m = re.match(r'(\d+)\.(0\.conv|1)\.(weight|bias)$', rest)
        if m is None:
            raise OfficialCheckpointError(f'unexpected hourglass head key {key}')
        layer = '0' if m.group(2) == '0.conv' else '2'
        return f'{head_prefix}.{name}.{m.group(1)}.{layer}.{m.group(3)}'
    return f'{head_prefix}.{name}.0.{rest}'


def convert_state_dict(sd: Dict[str, Tensor], info: Optional[dict] = None) -> Dict[str, Tensor]:
    """Rename (and where needed fold) original keys into mmcenternet model keys.

    Args:
        sd: Original state dict (``module.`` already stripped).
        info: Result of :func:`detect_architecture` (computed if ``None``).

    Returns:
        State dict for the matching mmcenternet config.
    """
    info = detect_architecture(sd) if info is None else info
    arch = info['arch']
    head_prefix = 'head.head_module' if info['task'] == 'multi_pose' else 'bbox_head.head_module'
    out: Dict[str, Tensor] = OrderedDict()
    dcn_bias: Dict[str, Tensor] = {}
    for key, value in sd.items():
        new = _convert_head_key(key, arch, head_prefix)
        if new is None:
            if arch == 'dla':
                new = _convert_dla_key(key)
            elif arch == 'resdcn':
                new = _convert_resdcn_key(key, value, dcn_bias)
            else:
                new = _convert_hourglass_key(key)
        if new is not None:
            out[new] = value
    for bn_prefix, bias in dcn_bias.items():
        mean_key = f'{bn_prefix}.running_mean'
        if mean_key not in out:
            raise OfficialCheckpointError(f'DCN bias without a following BatchNorm ({bn_prefix})')
        out[mean_key] = out[mean_key] - bias
    return out


def _convert_dla_key(key: str) -> Optional[str]:
    if key.startswith('base.fc.'):
        return None  # the ImageNet classifier is never used by CenterNet
    key = key.replace('conv_offset_mask', 'conv_offset')
    if key.startswith('base.'):
        return 'backbone.' + key[5:]
    if key.startswith(('dla_up.', 'ida_up.')):
        return 'neck.' + key
    raise OfficialCheckpointError(f'unexpected DLA key {key}')


# Original deconv_layers index -> (ConvModule index in CTResNetNeck, sub-module)
_RESDCN_NECK = {0: (0, 'conv'), 1: (0, 'bn'), 3: (1, 'conv'), 4: (1, 'bn'),
                6: (2, 'conv'), 7: (2, 'bn'), 9: (3, 'conv'), 10: (3, 'bn'),
                12: (4, 'conv'), 13: (4, 'bn'), 15: (5, 'conv'), 16: (5, 'bn')}


def _convert_resdcn_key(key: str, value: Tensor, dcn_bias: Dict[str, Tensor]) -> Optional[str]:
    if key.startswith('deconv_layers.'):
        parts = key.split('.')
        idx = int(parts[1])
        if idx not in _RESDCN_NECK:
            raise OfficialCheckpointError(f'unexpected ResNet-DCN neck key {key}')
        module, sub = _RESDCN_NECK[idx]
        rest = '.'.join(parts[2:]).replace('conv_offset_mask', 'conv_offset')
        if sub == 'conv' and rest == 'bias':
            # mmdet's ConvModule has no conv bias before BN: fold it into the BN statistics.
            dcn_bias[f'neck.deconv_layers.{module}.bn'] = value
            return None
        return f'neck.deconv_layers.{module}.{sub}.{rest}'
    if key.startswith(('conv1.', 'bn1.', 'layer')):
        return 'backbone.' + key
    if key.startswith('fc.'):
        return None
    raise OfficialCheckpointError(f'unexpected ResNet-DCN key {key}')


def _convert_hourglass_key(key: str) -> Optional[str]:
    raise OfficialCheckpointError(
        f'Hourglass-104 checkpoints are not supported by this version (key {key})')


def convert_checkpoint(src: str, dst: str) -> dict:
    """Convert an original checkpoint file and save it for mmengine (weights-only loadable).

    Returns:
        The detected architecture information (also stored under ``meta``).
    """
    sd, extra = load_official_state_dict(src)
    info = detect_architecture(sd)
    new_sd = convert_state_dict(sd, info)
    meta = dict(source='xingyizhou/CenterNet', arch=info['arch'], depth=info['depth'],
                task=info['task'], num_classes=info['num_classes'],
                heads=info['heads'], epoch=extra.get('epoch'))
    buf = io.BytesIO()
    torch.save({'state_dict': new_sd, 'meta': meta}, buf)
    AtomicLocalBackend().put(buf.getvalue(), dst)
    return info
