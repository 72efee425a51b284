# Copyright (c) mmcenternet contributors. All rights reserved.
"""Shared preparation for ``tools/train.py`` and ``tools/test.py``.

Every check here turns a mistake that mmengine would report deep inside a 40-line traceback
into one message that names the config key, file or checkpoint at fault.
"""
import copy
import difflib
import os
import os.path as osp
import sys
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict

from .checkpoint_io import CheckpointReadError, torch_load

__all__ = [
    'UserError', 'run_cli', 'load_config', 'check_registered_types', 'check_data_paths',
    'check_checkpoint_matches', 'setup_cpu_distributed', 'finish_distributed', 'is_pose_config'
]


class UserError(RuntimeError):
    """A problem with the user's input, reported as one line without a traceback."""


def run_cli(main: Callable[[], None]) -> None:
    """Run a tool's ``main`` and report user errors as ``error: <message>`` (exit code 2)."""
    from mmcenternet.datasets.centernet_coco import DatasetFormatError
    try:
        main()
    except (UserError, CheckpointReadError, DatasetFormatError, FileNotFoundError) as exc:
        msg = str(exc) if not isinstance(exc, FileNotFoundError) or not exc.filename else \
            f'{exc.strerror}: {exc.filename}'
        print(f'error: {msg}', file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001
        # Errors raised in data-loading workers arrive wrapped; report the ones about the
        # user's data (an undecodable image, a bad test scale) by their own message.
        for line in str(exc).splitlines()[::-1]:
            for marker in ('failed to load image', 'smaller than the network stride'):
                if marker in line:
                    print(f'error: {line.split("Error: ")[-1].strip()}', file=sys.stderr)
                    sys.exit(2)
        raise


def load_config(path: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """Read a config (and overrides), with a clear message when the file is missing.

    A :class:`Config` object is copied (the caller's stays unchanged) and gets the overrides.
    """
    if isinstance(path, Config):
        cfg = copy.deepcopy(path)
    elif not osp.isfile(path):
        raise UserError(f'config file not found: {path}')
    else:
        cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def is_pose_config(cfg: Config) -> bool:
    return cfg.get('default_scope', 'mmdet') == 'mmpose'


def _all_registered_names() -> Dict[str, set]:
    """Names registered in mmengine's, mmdet's and mmpose's registries, by registry name."""
    import mmdet.registry as det_reg
    import mmengine.registry as root_reg
    import mmpose.registry as pose_reg
    from mmdet.utils import register_all_modules as det_all
    det_all(init_default_scope=False)
    # mmpose's register_all_modules imports mmpose.visualization, which needs torchvision.
    import importlib
    for name in ('codecs', 'datasets', 'engine', 'evaluation', 'models', 'visualization'):
        try:
            importlib.import_module(f'mmpose.{name}')
        except ImportError:
            pass
    import mmcv.ops  # noqa: F401  (registers DCN and friends)
    import mmcv.transforms  # noqa: F401
    names: Dict[str, set] = {}
    for module in (root_reg, det_reg, pose_reg):
        for attr in dir(module):
            reg = getattr(module, attr)
            if isinstance(reg, root_reg.Registry):
                try:
                    reg.import_from_location()
                except Exception:  # noqa: BLE001  (an optional location failing is fine here)
                    pass
                names.setdefault(reg.name, set()).update(reg.module_dict)
    return names


def _iter_types(node, path: str = '') -> Iterable[Tuple[str, str]]:
    if isinstance(node, dict):
        t = node.get('type')
        if isinstance(t, str):
            yield path + '.type' if path else 'type', t
        for key, value in node.items():
            if key != 'type':
                yield from _iter_types(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _iter_types(value, f'{path}[{i}]')


def check_registered_types(cfg: Config, keys: Iterable[str]) -> None:
    """Raise :class:`UserError` for the first ``type`` under ``keys`` that no registry knows."""
    names = _all_registered_names()
    known = set().union(*names.values())
    for key in keys:
        if key not in cfg:
            continue
        for path, t in _iter_types(cfg[key], key):
            bare = t.split('.')[-1]
            if bare in known:
                continue
            if '.' in t:
                try:
                    from mmengine.utils import get_object_from_string
                    if get_object_from_string(t) is not None:
                        continue
                except Exception:  # noqa: BLE001
                    pass
            close = difflib.get_close_matches(bare, sorted(known), n=3)
            hint = f' (did you mean {", ".join(close)}?)' if close else ''
            raise UserError(f'{cfg.filename}: {path} = {t!r} is not a registered type{hint}. '
                            'Check the spelling, or that the module defining it is listed in '
                            '`custom_imports`.')


def _dataset_cfgs(node: dict, path: str) -> Iterable[Tuple[str, dict]]:
    if 'dataset' in node and isinstance(node['dataset'], dict):
        yield from _dataset_cfgs(node['dataset'], path + '.dataset')
    elif 'datasets' in node:
        for i, d in enumerate(node['datasets']):
            yield from _dataset_cfgs(d, f'{path}.datasets[{i}]')
    else:
        yield path, node


def check_data_paths(cfg: Config, loaders: Iterable[str]) -> None:
    """Check that each loader's data root, annotation file and image folder exist."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for path, ds in _dataset_cfgs(cfg[loader], loader):
            root = ds.get('data_root') or ''
            if root and not osp.isdir(root):
                raise UserError(f'{path}.data_root: folder not found: {root} '
                                f'(set it with --cfg-options {path}.data_root=PATH)')
            ann = ds.get('ann_file')
            if ann:
                full = ann if osp.isabs(ann) or not root else osp.join(root, ann)
                if not osp.isfile(full):
                    raise UserError(f'{path}.ann_file: annotation file not found: {full}')
            prefix = ds.get('data_prefix', {}) or {}
            for key in ('img', 'img_path'):
                sub = prefix.get(key)
                if sub:
                    full = sub if osp.isabs(sub) or not root else osp.join(root, sub)
                    if not osp.isdir(full):
                        raise UserError(f'{path}.data_prefix.{key}: image folder not found: '
                                        f'{full}')


def _looks_original(keys: List[str]) -> bool:
    stripped = [k[7:] if k.startswith('module.') else k for k in keys]
    return any(k.startswith(('base.base_layer', 'deconv_layers.', 'pre.0.', 'kps.'))
               for k in stripped)


def check_checkpoint_matches(cfg: Config, checkpoint: str) -> None:
    """Compare a checkpoint with the model of ``cfg`` before mmengine loads it leniently.

    Raises :class:`UserError` naming both sides for a missing or unreadable file, an original
    (unconverted) CenterNet file, another architecture, or a different number of classes.
    """
    if checkpoint.startswith(('http://', 'https://')):
        return
    if not osp.isfile(checkpoint):
        raise UserError(f'checkpoint file not found: {checkpoint}')
    ckpt = torch_load(checkpoint, map_location='cpu', allow_pickle=True)
    sd = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict) or not sd:
        raise UserError(f'{checkpoint} holds no state dict (found {type(ckpt).__name__})')
    if _looks_original(list(sd)):
        raise UserError(
            f'{checkpoint} is an original CenterNet checkpoint; convert it first: python '
            f'tools/model_converters/centernet2mmcenternet.py {checkpoint} OUTPUT.pth')
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = ConfigDict(cfg.model)
    model_cfg.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    own = model.state_dict()
    sd = {k[7:] if k.startswith('module.') else k: v for k, v in sd.items()}
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    described = ''
    if isinstance(meta, dict) and meta.get('arch'):
        described = f' (a {meta.get("arch")}{meta.get("depth", "")} {meta.get("task", "")} ' \
                    f'checkpoint with {meta.get("num_classes")} classes)'
    common = [k for k in own if k in sd]
    if len(common) < 0.5 * len(own):
        missing = [k for k in own if k not in sd][:3]
        raise UserError(
            f'checkpoint {checkpoint}{described} does not match config {cfg.filename}: '
            f'{len(own) - len(common)} of {len(own)} model weights are absent from it '
            f'(e.g. {", ".join(missing)})')
    if is_pose_config(cfg):
        # A ctdet file shares the backbone and neck with the pose model but none of its head.
        head_keys = [k for k in own if k.startswith('head.')]
        absent = [k for k in head_keys if k not in sd]
        if absent:
            raise UserError(
                f'checkpoint {checkpoint}{described} does not match pose config {cfg.filename}: '
                f'{len(absent)} of {len(head_keys)} pose-head weights are absent from it (e.g. '
                f'{", ".join(absent[:3])}). A detection checkpoint only initialises pose '
                'training (load_from); test with a multi_pose checkpoint')
    for key in common:
        if tuple(own[key].shape) != tuple(sd[key].shape):
            classes = ''
            if 'hm' in key.split('.') and key.endswith('.weight'):
                classes = (f': the checkpoint predicts {sd[key].shape[0]} classes, the config '
                           f'{own[key].shape[0]}')
            raise UserError(
                f'checkpoint {checkpoint}{described} does not match config {cfg.filename}{classes} '
                f'({key}: checkpoint {tuple(sd[key].shape)} vs model {tuple(own[key].shape)})')


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` work without GPUs (gloo) on mmengine 0.10.7.

    mmengine calls ``torch.cuda.set_device`` when it initialises the process group and gives DDP
    ``device_ids=[local_rank]``; both fail on CPU. The process group is therefore created here
    (mmengine then skips its own initialisation) and DDP is built without device ids.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise UserError(f'--launcher {launcher} needs GPUs; on a CPU-only machine use '
                        'tools/dist_train.sh (torchrun, --launcher pytorch)')
    cfg.env_cfg = cfg.get('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def finish_distributed() -> None:
    """Synchronise and close the process group (avoids gloo's abort at interpreter exit)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def set_local_rank(local_rank: int) -> None:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)
