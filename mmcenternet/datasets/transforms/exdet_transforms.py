# Copyright (c) mmcenternet contributors. All rights reserved.
"""Loading and packing of the extreme points used by CenterNet ``exdet`` training."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import PackDetInputs

from mmcenternet.registry import DET_TRANSFORMS


@DET_TRANSFORMS.register_module()
class LoadExtremePoints(BaseTransform):
    """Put the instances' ``extreme_points`` into ``results['gt_extreme_points']``.

    Use after mmdet's ``LoadAnnotations`` with a dataset whose instances carry ``extreme_points``
    (:class:`CenterNetExdetCocoDataset`); the rows stay aligned with ``gt_bboxes``.

    Required keys: ``instances``. Added: ``gt_extreme_points`` (N, 4, 2) float32, the points
    ``(x, y)`` in the order top, left, bottom, right.
    """

    def transform(self, results: dict) -> dict:
        instances = results.get('instances', [])
        missing = [i for i, inst in enumerate(instances) if 'extreme_points' not in inst]
        if missing:
            raise KeyError(
                f'{results.get("img_path", "")}: instance {missing[0]} has no extreme_points; '
                'use the CenterNetExdetCocoDataset dataset for exdet training')
        pts = [inst['extreme_points'] for inst in instances]
        results['gt_extreme_points'] = np.asarray(pts, dtype=np.float32).reshape(-1, 4, 2)
        return results


@DET_TRANSFORMS.register_module()
class PackExdetInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs ``gt_extreme_points`` as
    ``gt_instances.extreme_points`` (split from ignored instances like the boxes)."""

    mapping_table = dict(PackDetInputs.mapping_table, gt_extreme_points='extreme_points')
