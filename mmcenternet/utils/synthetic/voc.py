# Copyright (c) mmcenternet contributors. All rights reserved.
"""A small Pascal VOC-layout dataset (XML annotations, image-set lists) of generated shapes, so
that the VOC configs, reader and metric run without the real data."""
import json
import os
import os.path as osp
import shutil
import tempfile
import xml.etree.ElementTree as ET
from typing import Dict

import cv2

from .shapes import make_shapes_dataset

__all__ = ['VOC_CLASSES', 'make_voc_dataset']

#: The 20 Pascal VOC classes (the generated shapes use the first four).
VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')


def _write_year(root: str, year: str, splits: Dict[str, int], seed: int) -> None:
    base = osp.join(root, f'VOC{year}')
    for sub in ('Annotations', 'JPEGImages', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(base, sub), exist_ok=True)
    for k, (split, count) in enumerate(splits.items()):
        tmp = tempfile.mkdtemp()
        try:
            paths = make_shapes_dataset(tmp, count, seed=seed + k, split=split)
            with open(paths['ann_file']) as f:
                coco = json.load(f)
            names = []
            for img in coco['images']:
                stem = f'{year}_{split}_{img["id"]:05d}'
                names.append(stem)
                pixels = cv2.imread(osp.join(paths['img_dir'], img['file_name']))
                cv2.imwrite(osp.join(base, 'JPEGImages', stem + '.jpg'), pixels,
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
                ann = ET.Element('annotation')
                ET.SubElement(ann, 'filename').text = stem + '.jpg'
                size = ET.SubElement(ann, 'size')
                for key, value in (('width', img['width']), ('height', img['height']),
                                   ('depth', 3)):
                    ET.SubElement(size, key).text = str(value)
                for obj in (a for a in coco['annotations'] if a['image_id'] == img['id']):
                    x, y, w, h = obj['bbox']
                    node = ET.SubElement(ann, 'object')
                    ET.SubElement(node, 'name').text = VOC_CLASSES[obj['category_id'] - 1]
                    ET.SubElement(node, 'difficult').text = '0'
                    box = ET.SubElement(node, 'bndbox')
                    # VOC boxes are 1-based pixel indices
                    for key, value in (('xmin', x + 1), ('ymin', y + 1), ('xmax', x + w + 1),
                                       ('ymax', y + h + 1)):
                        ET.SubElement(box, key).text = str(int(round(value)))
                ET.ElementTree(ann).write(osp.join(base, 'Annotations', stem + '.xml'))
            with open(osp.join(base, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
                f.write('\n'.join(names) + '\n')
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def make_voc_dataset(root: str, num_trainval: int = 8, num_test: int = 4,
                     seed: int = 0) -> str:
    """Write ``<root>/VOC2007`` (trainval, test) and ``<root>/VOC2012`` (trainval) in the VOC
    layout; returns ``root`` (the configs' ``data_root``)."""
    _write_year(root, '2007', dict(trainval=num_trainval, test=num_test), seed)
    _write_year(root, '2012', dict(trainval=num_trainval), seed + 10)
    return root
