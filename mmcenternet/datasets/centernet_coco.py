# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO-format detection data read the way CenterNet reads it."""
import os.path as osp
from typing import List, Union

from mmdet.datasets import CocoDataset
from mmengine.logging import print_log

from mmcenternet.registry import DET_DATASETS
from mmcenternet.utils.errors import DatasetFormatError


@DET_DATASETS.register_module()
class CenterNetCocoDataset(CocoDataset):
    """COCO-style dataset that keeps every annotation of an image, in file order.

    Differences from mmdet's ``CocoDataset`` (all as in the original implementation):

    * annotations with zero or negative size, tiny boxes and boxes outside the image are kept;
      the target generator skips objects whose box is empty after the crop, and each annotation
      keeps its slot (``max_objs`` counts annotations, not surviving boxes);
    * crowd annotations are ordinary objects unless ``crowd_as_objects=False`` (then they are
      marked ignored, as mmdet does);
    * an annotation whose ``category_id`` is not among the file's categories is an error that
      names the annotation and the image, never silently dropped.

    Args:
        crowd_as_objects: Treat ``iscrowd=1`` boxes as objects (CenterNet's behaviour).
        **kwargs: ``CocoDataset`` arguments.
    """

    def __init__(self, *args, crowd_as_objects: bool = True, **kwargs) -> None:
        self.crowd_as_objects = crowd_as_objects
        self._degenerate = []
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
        self._degenerate = []
        data_list = super().load_data_list()
        if self._degenerate:
            ann_id, img_id = self._degenerate[0]
            print_log(
                f'{self.ann_file}: {len(self._degenerate)} annotation(s) have a non-positive '
                f'width or height (first: annotation {ann_id} of image {img_id}); they keep '
                'their object slot but produce no training target, as in CenterNet.',
                logger='current')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        img_info = raw_data_info['raw_img_info']
        ann_info = raw_data_info['raw_ann_info']
        data_info = dict(
            img_path=osp.join(self.data_prefix['img'], img_info['file_name']),
            img_id=img_info['img_id'],
            seg_map_path=None,
            height=img_info['height'],
            width=img_info['width'])
        known = set(self.coco.cats)
        instances = []
        for ann in ann_info:
            if ann.get('ignore', False):
                continue
            cat = ann.get('category_id')
            if cat not in known:
                raise DatasetFormatError(
                    f'{self.ann_file}: annotation {ann.get("id")} of image {img_info["img_id"]} '
                    f'({img_info["file_name"]}) has category_id {cat}, which is not among the '
                    f'file\'s categories {sorted(known)[:10]}{"..." if len(known) > 10 else ""}')
            if cat not in self.cat2label:
                continue  # a category the config deliberately leaves out (metainfo classes)
            bbox = ann.get('bbox')
            if bbox is None or len(bbox) != 4:
                raise DatasetFormatError(
                    f'{self.ann_file}: annotation {ann.get("id")} of image {img_info["img_id"]} '
                    f'has no [x, y, w, h] bbox (got {bbox!r})')
            x1, y1, w, h = bbox
            if not (w > 0 and h > 0):
                self._degenerate.append((ann.get('id'), img_info['img_id']))
            crowd = bool(ann.get('iscrowd', False))
            instances.append(
                dict(
                    bbox=[x1, y1, x1 + w, y1 + h],
                    bbox_label=self.cat2label[cat],
                    ignore_flag=int(crowd and not self.crowd_as_objects)))
        data_info['instances'] = instances
        return data_info
