# Copyright (c) mmcenternet contributors. All rights reserved.
"""The COCO box metric writes results as the original (two decimals, float32 sizes)."""
import json

import numpy as np
import torch

from mmcenternet.evaluation import CenterNetCocoMetric


def _ann_file(tmp_path):
    ann = dict(images=[dict(id=1, file_name='a.png', height=50, width=60)],
               categories=[dict(id=1, name='a'), dict(id=2, name='b')],
               annotations=[
                   dict(id=1, image_id=1, category_id=2, bbox=[10, 10, 20.5, 30], area=615,
                        iscrowd=0)
               ])
    path = str(tmp_path / 'ann.json')
    with open(path, 'w') as f:
        json.dump(ann, f)
    return path


def _run(tmp_path, round_decimals):
    metric = CenterNetCocoMetric(ann_file=_ann_file(tmp_path), round_decimals=round_decimals,
                                 outfile_prefix=str(tmp_path / f'res{round_decimals}'))
    metric.dataset_meta = dict(classes=('a', 'b'))
    pred = dict(bboxes=torch.tensor([[10.0, 10.0, 30.5, 40.0], [1.234, 2.345, 5.678, 9.876]]),
                scores=torch.tensor([0.91234, 0.45678]), labels=torch.tensor([1, 0]))
    metric.process({}, [dict(img_id=1, ori_shape=(50, 60), pred_instances=pred)])
    res = metric.evaluate(1)
    with open(str(tmp_path / f'res{round_decimals}.bbox.json')) as f:
        return res, json.load(f)


def test_perfect_box_gives_ap_one_and_the_file_is_rounded(tmp_path):
    res, records = _run(tmp_path, 2)
    assert res['coco/bbox_mAP'] == 1.0
    second = [r for r in records if r['category_id'] == 1][0]
    assert second['score'] == 0.46
    assert second['bbox'] == [1.23, 2.35, 4.44, 7.53]


def test_raw_values_without_rounding(tmp_path):
    _, records = _run(tmp_path, None)
    second = [r for r in records if r['category_id'] == 1][0]
    np.testing.assert_allclose(second['score'], 0.45678, rtol=1e-6)
