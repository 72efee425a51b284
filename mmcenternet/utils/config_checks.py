# Copyright (c) mmcenternet contributors. All rights reserved.
"""Checks of a config, its data and its checkpoint before mmengine runs them.

Every check here turns a mistake that mmengine would report deep inside a 40-line traceback
into one message that names the config key, file or checkpoint at fault.
"""
import difflib
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

from mmengine.config import Config, ConfigDict

from .checkpoint_io import torch_load
from .cli import is_pose_config
from .errors import UserError

__all__ = [
    'check_registered_types', 'check_data_paths', 'check_checkpoint_matches',
    'check_stride_matches', 'config_classes'
]


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
            elif 'wh' in key.split('.') and key.endswith('.weight') and \
                    sd[key].shape[0] != own[key].shape[0] and sd[key].shape[0] > 2:
                classes = (f': the checkpoint has class-specific sizes ({sd[key].shape[0]} size '
                           'channels, the original\'s --cat_spec_wh); set '
                           'model.bbox_head.cat_spec_wh=True')
            raise UserError(
                f'checkpoint {checkpoint}{described} does not match config {cfg.filename}{classes} '
                f'({key}: checkpoint {tuple(sd[key].shape)} vs model {tuple(own[key].shape)})')


def _head_cfg(cfg: Config) -> dict:
    model = cfg.get('model') or {}
    return model.get('bbox_head') or model.get('head') or {}


def _pipelines(cfg: Config) -> Iterable[Tuple[str, list]]:
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            continue
        for path, ds in _dataset_cfgs(cfg[loader], loader):
            yield f'{path}.pipeline', ds.get('pipeline') or []


def check_stride_matches(cfg: Config) -> None:
    """The head's ``stride`` and every pipeline transform's ``down_ratio`` must agree.

    The training transforms place targets on a map ``input / down_ratio`` large; the head decodes
    peaks at ``stride`` input pixels per map cell. Raises :class:`UserError` naming both values.
    """
    head = _head_cfg(cfg)
    stride = head.get('stride', 4) if isinstance(head, dict) else 4
    for path, pipeline in _pipelines(cfg):
        for i, t in enumerate(pipeline):
            if isinstance(t, dict) and 'down_ratio' in t and t['down_ratio'] != stride:
                where = 'model.bbox_head' if 'bbox_head' in cfg.model else 'model.head'
                raise UserError(
                    f'{cfg.filename}: {path}[{i}] ({t.get("type")}) has down_ratio='
                    f'{t["down_ratio"]} but {where}.stride={stride}; they must be equal (the '
                    'output stride of the network)')


def config_classes(cfg: Config) -> Optional[Tuple[str, ...]]:
    """Class names of the config's datasets (test, val, train), else COCO's for 80 classes,
    else ``class 0 ...``; ``None`` when the config names no class count."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset', {})
        while isinstance(ds, dict) and 'dataset' in ds:
            ds = ds['dataset']
        classes = (ds.get('metainfo') or {}).get('classes') if isinstance(ds, dict) else None
        if classes:
            return tuple(classes)
    num = cfg.model.get('bbox_head', {}).get('num_classes')
    if num == 80:
        from mmdet.evaluation import get_classes
        return tuple(get_classes('coco'))
    return tuple(f'class {i}' for i in range(num)) if num else None
