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

Hourglass-104 (``pre``, ``kps``, ``cnvs``, ``inters``, ``inters_``, ``cnvs_``) maps one to one onto
mmdet's ``HourglassNet`` (``stem``, ``hourglass_modules``, ``out_convs``, ``inters``, ``conv1x1s``,
``remap_convs``); residual ``skip`` branches become ``downsample``. The original trains its
hourglass models from an ExtremeNet (or CornerNet) checkpoint: :func:`convert_init_state_dict`
turns such a file into an initialisation for a given task (backbone kept, heads the task's model
does not have dropped), after ExtremeNet's head names are renamed as the original's
``tools/convert_hourglass_weight.py`` does (``t_heats`` -> ``hm_t``, ..., ``ct_heats`` -> ``hm_c``,
``t_regrs`` -> ``reg_t``, ...).

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
           'convert_state_dict', 'convert_checkpoint', 'detect_hourglass_source',
           'rename_extremenet_keys', 'convert_init_state_dict', 'TASK_HEADS']

HEAD_NAMES = ('hm', 'wh', 'reg', 'hps', 'hm_hp', 'hp_offset', 'hm_t', 'hm_l', 'hm_b', 'hm_r',
              'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r', 'dep', 'rot', 'dim')
#: Heads of the mmcenternet model of each task (an initialisation keeps only these).
TASK_HEADS = {
    'ctdet': ('hm', 'wh', 'reg'),
    'multi_pose': ('hm', 'wh', 'reg', 'hps', 'hm_hp', 'hp_offset'),
    'exdet': ('hm_t', 'hm_l', 'hm_b', 'hm_r', 'hm_c', 'reg_t', 'reg_l', 'reg_b', 'reg_r'),
}
#: ExtremeNet head names -> CenterNet head names (the rule of the original's
#: ``tools/convert_hourglass_weight.py``).
EXTREMENET_HEADS = {
    't_heats': 'hm_t', 'l_heats': 'hm_l', 'b_heats': 'hm_b', 'r_heats': 'hm_r', 'ct_heats': 'hm_c',
    't_regrs': 'reg_t', 'l_regrs': 'reg_l', 'b_regrs': 'reg_b', 'r_regrs': 'reg_r',
}
#: Modules of CornerNet's corner heads (never part of a CenterNet model).
CORNERNET_MODULES = ('tl_cnvs', 'br_cnvs', 'tl_heats', 'br_heats', 'tl_tags', 'br_tags',
                     'tl_regrs', 'br_regrs')
HOURGLASS_BACKBONE = ('pre', 'kps', 'cnvs', 'inters', 'inters_', 'cnvs_')
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
    if arch == 'hourglass':
        _add_batch_counters(out)
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


# Original 1x1 "conv + BN" merge layers -> mmdet HourglassNet ConvModules.
_HOURGLASS_MERGE = {'inters_': 'conv1x1s', 'cnvs_': 'remap_convs'}


def _residual_key(rest: str) -> str:
    """Original ``residual`` keys -> mmdet ``BasicBlock`` keys (``skip`` -> ``downsample``)."""
    return re.sub(r'(^|\.)skip\.', r'\1downsample.', rest)


def _convert_hourglass_key(key: str) -> Optional[str]:
    """Map an original Hourglass-104 backbone key onto mmdet's ``HourglassNet``.

    ``pre.0`` (7x7 conv + BN) -> ``stem.0``; ``pre.1`` (stride-2 residual) -> ``stem.1.0``;
    ``kps.<s>`` -> ``hourglass_modules.<s>`` (the same recursive ``up1/low1/low2/low3`` names);
    ``cnvs.<s>`` -> ``out_convs.<s>``; ``inters.<s>`` -> ``inters.<s>``; ``inters_.<s>.{0,1}`` ->
    ``conv1x1s.<s>.{conv,bn}``; ``cnvs_.<s>.{0,1}`` -> ``remap_convs.<s>.{conv,bn}``.
    """
    m = re.match(r'(pre|kps|cnvs_|cnvs|inters_|inters)\.(\d+)\.(.+)$', key)
    if m is None:
        raise OfficialCheckpointError(f'unexpected Hourglass key {key}')
    group, idx, rest = m.groups()
    if group == 'pre':
        if idx == '0' and rest.startswith(('conv.', 'bn.')):
            return f'backbone.stem.0.{rest}'
        if idx == '1':
            return f'backbone.stem.1.0.{_residual_key(rest)}'
    elif group == 'kps':
        return f'backbone.hourglass_modules.{idx}.{_residual_key(rest)}'
    elif group == 'cnvs':
        if rest.startswith(('conv.', 'bn.')):
            return f'backbone.out_convs.{idx}.{rest}'
    elif group == 'inters':
        return f'backbone.inters.{idx}.{_residual_key(rest)}'
    else:
        sub, _, tail = rest.partition('.')
        layer = {'0': 'conv', '1': 'bn'}.get(sub)
        if layer is not None and tail:
            return f'backbone.{_HOURGLASS_MERGE[group]}.{idx}.{layer}.{tail}'
    raise OfficialCheckpointError(f'unexpected Hourglass key {key}')


def _add_batch_counters(sd: Dict[str, Tensor]) -> None:
    """Give every BatchNorm without ``num_batches_tracked`` (PyTorch < 0.4.1 files) a zero one.

    This is the value the original's loader leaves in the model for such keys.
    """
    for key in list(sd):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            if counter not in sd:
                sd[counter] = torch.tensor(0, dtype=torch.int64)


def detect_hourglass_source(sd: Dict[str, Tensor]) -> Optional[str]:
    """Which network a hourglass state dict comes from (``None`` if it is no hourglass).

    Returns ``'extremenet'``, ``'cornernet'``, ``'centernet'`` or ``None``.

    ExtremeNet and CornerNet share CenterNet's Hourglass-104 keys (``pre``, ``kps``, ...) and differ
    in their heads: ``t_heats`` ... ``r_regrs`` (ExtremeNet), ``tl_*`` / ``br_*`` (CornerNet).
    """
    if 'pre.0.conv.weight' not in sd or not any(k.startswith('kps.') for k in sd):
        return None
    firsts = {k.split('.')[0] for k in sd}
    if firsts & set(EXTREMENET_HEADS):
        return 'extremenet'
    if firsts & set(CORNERNET_MODULES):
        return 'cornernet'
    return 'centernet'


def rename_extremenet_keys(sd: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Rename ExtremeNet's heads to CenterNet's (``t_heats`` -> ``hm_t``, ``t_regrs`` -> ``reg_t``).

    The renaming of the original's ``tools/convert_hourglass_weight.py``, applied to the first
    component of each key; every other key is kept as it is.
    """
    out = OrderedDict()
    for key, value in sd.items():
        first, sep, rest = key.partition('.')
        out[EXTREMENET_HEADS.get(first, first) + sep + rest] = value
    return out


def convert_init_state_dict(sd: Dict[str, Tensor],
                            task: str = 'ctdet') -> Tuple[Dict[str, Tensor], dict]:
    """Turn a hourglass checkpoint into an initialisation of a ``task`` model.

    Accepts ExtremeNet (raw or renamed by the original's tool), CornerNet and CenterNet hourglass
    state dicts (``module.`` already stripped). As the original's recipe (its loader drops keys the
    model does not have): the backbone is kept, heads of the ``task`` model are kept (converted),
    every other key is dropped.

    Args:
        sd: Original hourglass state dict.
        task: ``'ctdet'``, ``'multi_pose'`` or ``'exdet'``.

    Returns:
        ``(state dict for mmcenternet, info)`` with ``info`` holding ``source``, ``kept_heads``
        and ``dropped`` (the dropped original top-level modules).
    """
    if task not in TASK_HEADS:
        raise OfficialCheckpointError(f'unknown task {task}; expected one of {sorted(TASK_HEADS)}')
    source = detect_hourglass_source(sd)
    if source is None:
        raise OfficialCheckpointError(
            'not a Hourglass-104 checkpoint (no pre.0.conv.weight / kps.* keys); first keys: '
            f'{list(sd)[:6]}')
    renamed = rename_extremenet_keys(sd) if source == 'extremenet' else sd
    head_prefix = 'head.head_module' if task == 'multi_pose' else 'bbox_head.head_module'
    out: Dict[str, Tensor] = OrderedDict()
    kept, dropped = [], []
    for key, value in renamed.items():
        first = key.split('.')[0]
        if first in HOURGLASS_BACKBONE:
            out[_convert_hourglass_key(key)] = value
        elif first in TASK_HEADS[task]:
            out[_convert_head_key(key, 'hourglass', head_prefix)] = value
            if first not in kept:
                kept.append(first)
        elif first not in dropped:
            dropped.append(first)
    _add_batch_counters(out)
    return out, dict(source=source, kept_heads=kept, dropped=dropped)


def convert_checkpoint(src: str, dst: str, init_for: Optional[str] = None) -> dict:
    """Convert an original checkpoint file and save it for mmengine (weights-only loadable).

    Args:
        src: Original checkpoint.
        dst: Output file.
        init_for: Task (``'ctdet'``, ``'multi_pose'``, ``'exdet'``) to convert a hourglass
            checkpoint for as an *initialisation* (:func:`convert_init_state_dict`; for
            ``load_from``). ExtremeNet and CornerNet files are always converted this way (for
            ``ctdet`` unless given).

    Returns:
        The detected architecture information (also stored under ``meta``); for an
        initialisation also ``source``, ``init_for``, ``kept_heads`` and ``dropped``.
    """
    sd, extra = load_official_state_dict(src)
    source = detect_hourglass_source(sd)
    if init_for is not None or source in ('extremenet', 'cornernet'):
        if source is None:
            raise OfficialCheckpointError(
                'only Hourglass-104 checkpoints (CenterNet, ExtremeNet, CornerNet) can be '
                f'converted as an initialisation; first keys: {list(sd)[:6]}')
        task = init_for or 'ctdet'
        new_sd, init = convert_init_state_dict(sd, task)
        info = dict(arch='hourglass', depth=104, task=task, num_classes=None, heads={},
                    num_stacks=2, init_for=task, **init)
        meta = dict(source={'extremenet': 'xingyizhou/ExtremeNet',
                            'cornernet': 'princeton-vl/CornerNet'}.get(
                                init['source'], 'xingyizhou/CenterNet'),
                    arch='hourglass', depth=104, task=task, num_classes=None,
                    init_for=task, kept_heads=init['kept_heads'], dropped=init['dropped'],
                    epoch=extra.get('epoch'))
        _save(new_sd, meta, dst)
        return info
    info = detect_architecture(sd)
    new_sd = convert_state_dict(sd, info)
    meta = dict(source='xingyizhou/CenterNet', arch=info['arch'], depth=info['depth'],
                task=info['task'], num_classes=info['num_classes'],
                heads=info['heads'], epoch=extra.get('epoch'))
    _save(new_sd, meta, dst)
    return info


def _save(new_sd: Dict[str, Tensor], meta: dict, dst: str) -> None:
    """Write ``{'state_dict', 'meta'}`` atomically."""
    buf = io.BytesIO()
    torch.save({'state_dict': new_sd, 'meta': meta}, buf)
    AtomicLocalBackend().put(buf.getvalue(), dst)
