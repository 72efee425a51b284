# Copyright (c) mmcenternet contributors. All rights reserved.
"""COCO-format data with extreme points, read the way CenterNet's ``exdet`` reads it."""
from typing import List, Union

import numpy as np

from mmcenternet.registry import DET_DATASETS
from .centernet_coco import CenterNetCocoDataset, DatasetFormatError
from .extreme_points import RULES, ExtremePointsError, extreme_points_from_segmentation

SOURCES = ('auto', 'annotation', 'segmentation')


@DET_DATASETS.register_module()
class CenterNetExdetCocoDataset(CenterNetCocoDataset):
    """:class:`CenterNetCocoDataset` whose instances also carry ``extreme_points``.

    Each instance gets ``extreme_points``: ``[[x_t, y_t], [x_l, y_l], [x_b, y_b], [x_r, y_r]]``
    (top, left, bottom, right; image pixels). Like the original, which reads the field
    ``extreme_points`` of ExtremeNet's ``instances_extreme_*.json`` files, the points are used as
    they are: they need not lie inside ``bbox`` (which the targets never use) and are not
    re-ordered (points in the wrong order give a non-positive height or width after the crop and
    the object is skipped by the target generator, exactly as in the original).

    Where the field is missing, the points are derived from the annotation's ``segmentation``
    while the file is read (see :mod:`mmcenternet.datasets.extreme_points` for the rule and its
    tie-break), so plain COCO files with polygons need no conversion step.

    Args:
        extreme_points_source: ``'auto'`` (the field, else the segmentation), ``'annotation'``
            (the field only) or ``'segmentation'`` (always derive, ignoring the field).
        extreme_points_rule: How points are derived from a segmentation: ``'first_vertex'``
            (first extreme vertex) or ``'extremenet'`` (the band rule of ExtremeNet's
            annotation files).
        **kwargs: :class:`CenterNetCocoDataset` arguments.

    Raises:
        DatasetFormatError: naming the annotation (and image) for an annotation without usable
            extreme points (no field and no segmentation, a malformed field, an empty mask).
    """

    def __init__(self, *args, extreme_points_source: str = 'auto',
                 extreme_points_rule: str = 'first_vertex', **kwargs) -> None:
        if extreme_points_source not in SOURCES:
            raise ValueError(f'extreme_points_source must be one of {SOURCES}, got '
                             f'{extreme_points_source!r}')
        if extreme_points_rule not in RULES:
            raise ValueError(f'extreme_points_rule must be one of {RULES}, got '
                             f'{extreme_points_rule!r}')
        self.extreme_points_source = extreme_points_source
        self.extreme_points_rule = extreme_points_rule
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        data_info = super().parse_data_info(raw_data_info)
        img_info = raw_data_info['raw_img_info']
        # the annotations the parent kept, in the same order as its instances
        kept = [ann for ann in raw_data_info['raw_ann_info']
                if not ann.get('ignore', False) and ann.get('category_id') in self.cat2label]
        assert len(kept) == len(data_info['instances'])
        for inst, ann in zip(data_info['instances'], kept):
            inst['extreme_points'] = self._extreme_points(ann, img_info)
        return data_info

    def _extreme_points(self, ann: dict, img_info: dict) -> List[List[float]]:
        where = (f'{self.ann_file}: annotation {ann.get("id")} of image {img_info["img_id"]} '
                 f'({img_info.get("file_name")})')
        field = ann.get('extreme_points')
        if field is not None and self.extreme_points_source != 'segmentation':
            pts = np.asarray(field, dtype=np.float64)
            if pts.size != 8 or not np.all(np.isfinite(pts)):
                raise DatasetFormatError(
                    f'{where}: extreme_points must be 4 points [[x, y] x (top, left, bottom, '
                    f'right)], got {field!r}')
            return pts.reshape(4, 2).tolist()
        if self.extreme_points_source == 'annotation':
            raise DatasetFormatError(
                f'{where} has no extreme_points (extreme_points_source="annotation"); write them '
                'with tools/dataset_converters/coco_polygons_to_extreme_points.py or use '
                'extreme_points_source="auto" to derive them from the polygons')
        segm = ann.get('segmentation')
        if not segm:
            raise DatasetFormatError(
                f'{where} has neither extreme_points nor a segmentation to derive them from '
                '(exdet needs the four extreme points of every object)')
        try:
            pts = extreme_points_from_segmentation(segm, img_info['height'], img_info['width'],
                                                   rule=self.extreme_points_rule)
        except ExtremePointsError as exc:
            raise DatasetFormatError(f'{where}: cannot derive extreme points from its '
                                     f'segmentation ({exc})') from exc
        return pts.tolist()
