# Copyright (c) mmcenternet contributors. All rights reserved.
"""Keypoint AP of the results file, rounded as the original writes it."""
import json

import numpy as np
import pytest

from mmcenternet.evaluation import CenterNetCocoPoseMetric
from keypoint_data import person_annotation, write_keypoint_coco, keypoint_list, ANNS  # noqa: F401


def _metric_inputs(path, shift=0.0, score=0.9):
    """Predictions equal to the ground truth of the annotated, non-crowd persons."""
    data = json.load(open(path))
    samples = []
    for img in data['images']:
        anns = [a for a in data['annotations'] if a['image_id'] == img['id'] and not a['iscrowd']]
        kps = np.array([np.reshape(a['keypoints'], (17, 3))[:, :2] for a in anns],
                       np.float32).reshape(-1, 17, 2) + shift
        boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]] for a in anns], np.float32).reshape(-1, 4)
        n = len(anns)
        samples.append(dict(
            id=[a['id'] for a in anns], img_id=img['id'], gt_instances=dict(),
            pred_instances=dict(keypoints=kps, keypoint_scores=np.ones((n, 17), np.float32),
                                bboxes=boxes, bbox_scores=np.full(n, score, np.float32))))
    return samples


def _evaluate(metric, samples):
    from mmpose.datasets import CocoDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    metric.dataset_meta = parse_pose_metainfo(CocoDataset.METAINFO)
    metric.process([], samples)
    return metric.evaluate(len(samples))


def test_metric_perfect_predictions_and_rounded_file(tmp_path):
    path = write_keypoint_coco(tmp_path, ANNS)
    prefix = str(tmp_path / 'res')
    metric = CenterNetCocoPoseMetric(ann_file=path, outfile_prefix=prefix)
    assert metric.score_mode == 'bbox' and metric.nms_mode == 'none'
    res = _evaluate(metric, _metric_inputs(path, shift=0.004, score=0.123456))
    assert res['coco/AP'] == pytest.approx(1.0)
    records = json.load(open(prefix + '.keypoints.json'))
    assert len(records) == 2
    rec = [r for r in records if r['image_id'] == 3][0]
    assert rec['score'] == 0.12 and rec['category_id'] == 1
    assert rec['bbox'] == [2.5, 3.25, 20.0, 30.0]
    assert rec['keypoints'][:3] == [4.0, 5.0, 1.0]  # 4.004 rounded, visibility 1


def test_plain_mmpose_metric_accepts_the_predictions(tmp_path):
    from mmpose.evaluation.metrics import CocoMetric
    path = write_keypoint_coco(tmp_path, ANNS)
    metric = CocoMetric(ann_file=path, score_mode='bbox', nms_mode='none')
    res = _evaluate(metric, _metric_inputs(path))
    assert res['coco/AP'] == pytest.approx(1.0)
