# Copyright (c) mmcenternet contributors. All rights reserved.
"""Keypoint AP of the results file, rounded as the original writes it."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmcenternet.evaluation import CenterNetCocoPoseMetric


def _kps(x0, y0, v=2, n=17):
    out = []
    for j in range(n):
        out += [x0 + 3 * j, y0 + 2 * j, v]
    return out


def _coco(tmp_path, anns, images=((1, 60, 80), (2, 60, 80), (3, 60, 80))):
    data = dict(
        images=[dict(id=i, file_name=f'{i}.jpg', height=h, width=w) for i, h, w in images],
        annotations=anns,
        categories=[dict(id=1, name='person', keypoints=[f'j{i}' for i in range(17)],
                         skeleton=[])])
    path = osp.join(str(tmp_path), 'kp.json')
    with open(path, 'w') as f:
        json.dump(data, f)
    for i, h, w in images:
        cv2.imwrite(osp.join(str(tmp_path), f'{i}.jpg'), np.full((h, w, 3), 80, np.uint8))
    return path


def _ann(ann_id, img_id, bbox, keypoints, crowd=0):
    num = sum(1 for v in keypoints[2::3] if v > 0)
    return dict(id=ann_id, image_id=img_id, category_id=1, bbox=bbox, keypoints=keypoints,
                num_keypoints=num, iscrowd=crowd, area=bbox[2] * bbox[3],
                segmentation=[[bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1], bbox[0] + bbox[2],
                               bbox[1] + bbox[3]]])


ANNS = [
    _ann(10, 1, [5, 5, 30, 40], _kps(8, 8)),
    _ann(11, 1, [40, 10, 60, 70], [0] * 51, crowd=1),  # crowd region, no keypoints, exceeds image
    _ann(12, 3, [2.5, 3.25, 20, 30], _kps(4, 5, v=1)),
]


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
    path = _coco(tmp_path, ANNS)
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
    path = _coco(tmp_path, ANNS)
    metric = CocoMetric(ann_file=path, score_mode='bbox', nms_mode='none')
    res = _evaluate(metric, _metric_inputs(path))
    assert res['coco/AP'] == pytest.approx(1.0)
