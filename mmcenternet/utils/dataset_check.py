# Copyright (c) mmcenternet contributors. All rights reserved.
"""Checks of a COCO-format training set that ``tools/train.py`` runs before training starts.

They catch the mistakes users of the original most often made with their own data: boxes
written as ``[x1, y1, x2, y2]`` where COCO expects ``[x, y, w, h]``, category ids that the file
does not declare, a config whose class list or class count does not match the annotation file,
and image files that are not where the config says.
"""
import json
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log

from .config_checks import _dataset_cfgs
from .errors import UserError

__all__ = ['check_coco_file', 'check_training_data']


def _default_classes(dataset_type: str) -> Optional[Sequence[str]]:
    from mmdet.registry import DATASETS
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    meta = getattr(cls, 'METAINFO', None) if cls is not None else None
    return tuple(meta['classes']) if meta and 'classes' in meta else None


def check_coco_file(ann_file: str,
                    classes: Optional[Sequence[str]] = None,
                    num_classes: Optional[int] = None,
                    img_dir: Optional[str] = None,
                    xyxy_fraction: float = 0.2) -> List[str]:
    """Validate a COCO detection annotation file; raise :class:`UserError` on fatal problems.

    Args:
        ann_file: The json file.
        classes: Class names the config trains on (``metainfo.classes``), if known.
        num_classes: Classes of the model head, if known.
        img_dir: Folder the images should be in (checked for existence).
        xyxy_fraction: Share of boxes reaching past the image that marks the file as xyxy.

    Returns:
        Warnings (non-fatal findings), each naming an annotation and image.
    """
    with open(ann_file) as f:
        data = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise UserError(f'{ann_file}: not a COCO detection file (no "{key}" list)')
    cats = {c['id']: c['name'] for c in data['categories']}
    names = list(cats.values())
    if classes is not None:
        unknown = [c for c in classes if c not in names]
        if unknown:
            raise UserError(
                f'{ann_file}: the config\'s classes {list(classes)[:8]} are not the file\'s '
                f'categories {names[:8]} (missing: {unknown[:5]}); set '
                f'metainfo=dict(classes=(...)) in the dataset config to the names in the file')
    n_used = len(classes) if classes is not None else len(names)
    if num_classes is not None and num_classes != n_used:
        raise UserError(
            f'class-count mismatch: the model predicts {num_classes} classes but the dataset '
            f'{ann_file} trains {n_used} ({list(classes or names)[:8]}); set the head\'s '
            'num_classes accordingly')
    images = {im['id']: im for im in data['images']}
    warnings: List[str] = []
    beyond = 0
    examples = []
    for ann in data['annotations']:
        img = images.get(ann.get('image_id'))
        if img is None:
            raise UserError(f'{ann_file}: annotation {ann.get("id")} refers to image id '
                            f'{ann.get("image_id")}, which is not in "images"')
        if ann.get('category_id') not in cats:
            raise UserError(f'{ann_file}: annotation {ann.get("id")} of image {img["id"]} '
                            f'({img.get("file_name")}) has unknown category_id '
                            f'{ann.get("category_id")} (declared: {sorted(cats)[:10]})')
        bbox = ann.get('bbox')
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise UserError(f'{ann_file}: annotation {ann.get("id")} of image {img["id"]} has '
                            f'no [x, y, w, h] bbox: {bbox!r}')
        x, y, w, h = bbox
        if w <= 0 or h <= 0:
            warnings.append(f'annotation {ann.get("id")} of image {img["id"]}: non-positive '
                            f'width/height {w}x{h} (kept, produces no target)')
        width, height = img.get('width'), img.get('height')
        if width and height and (x + w > 1.05 * width + 1 or y + h > 1.05 * height + 1):
            beyond += 1
            if len(examples) < 3:
                examples.append(f'annotation {ann.get("id")} of image {img["id"]} '
                                f'({width}x{height}): bbox {bbox}')
    n = max(len(data['annotations']), 1)
    if beyond > xyxy_fraction * n:
        raise UserError(
            f'{ann_file}: {beyond} of {n} boxes reach far past their image, e.g. '
            f'{"; ".join(examples)}. COCO boxes are [x, y, width, height]; these look like '
            '[x1, y1, x2, y2]. Convert them (w = x2 - x1, h = y2 - y1).')
    if beyond:
        warnings.append(f'{beyond} box(es) reach past their image, e.g. {examples[0]}')
    if img_dir is not None:
        missing = [im['file_name'] for im in data['images']
                   if not osp.isfile(osp.join(img_dir, im['file_name']))]
        if missing:
            raise UserError(f'{len(missing)} image file(s) of {ann_file} are missing from '
                            f'{img_dir}, e.g. {missing[:3]}')
    return warnings


def check_training_data(cfg: Config) -> None:
    """Run :func:`check_coco_file` on the training set of a detection config."""
    if cfg.get('default_scope', 'mmdet') != 'mmdet' or not cfg.get('train_dataloader'):
        return
    head = cfg.model.get('bbox_head') or {}
    num_classes = head.get('num_classes')
    for path, ds in _dataset_cfgs(cfg.train_dataloader, 'train_dataloader'):
        ann = ds.get('ann_file')
        if not ann or not str(ann).endswith('.json'):
            continue
        root = ds.get('data_root') or ''
        ann = ann if osp.isabs(ann) or not root else osp.join(root, ann)
        meta = ds.get('metainfo') or {}
        classes = meta.get('classes') or _default_classes(ds.get('type'))
        prefix = (ds.get('data_prefix') or {}).get('img', '')
        img_dir = prefix if osp.isabs(prefix) or not root else osp.join(root, prefix)
        warnings = check_coco_file(ann, classes, num_classes, img_dir)
        if warnings:
            print_log(f'{path}: {len(warnings)} annotation warning(s), first: {warnings[0]}',
                      logger='current')
