# Copyright (c) mmcenternet contributors. All rights reserved.
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmcenternet.visualization import CenterNetDetVisualizer
from mmcenternet.visualization.det_drawing import class_colour


def _sample(boxes, scores, labels, gt=None):
    sample = DetDataSample()
    sample.pred_instances = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                                         scores=torch.tensor(scores),
                                         labels=torch.tensor(labels))
    if gt is not None:
        sample.gt_instances = InstanceData(bboxes=torch.tensor(gt[0], dtype=torch.float32),
                                           labels=torch.tensor(gt[1]))
    return sample


def test_draws_unordered_and_outside_boxes_without_changing_predictions():
    vis = CenterNetDetVisualizer(name='test_vis_unordered', min_draw_size=0)
    vis.dataset_meta = dict(classes=('a', 'b'), palette=[(255, 0, 0), (0, 255, 0)])
    sample = _sample([[30., 20., 10., 5.], [-20., -5., 80., 90.]], [0.9, 0.8], [0, 1])
    boxes = sample.pred_instances.bboxes.clone()
    img = np.zeros((40, 50, 3), np.uint8)
    vis.add_datasample('x', img, sample, draw_gt=False, pred_score_thr=0.1)
    drawn = vis.get_image()
    assert drawn.shape == img.shape and drawn.any()
    assert torch.equal(sample.pred_instances.bboxes, boxes)


def test_small_pictures_are_enlarged_and_ground_truth_goes_beside_the_prediction():
    vis = CenterNetDetVisualizer(name='test_vis_gt', min_draw_size=480)
    vis.dataset_meta = dict(classes=('a', 'b'))
    img = np.full((96, 128, 3), 90, np.uint8)
    with_gt = _sample([[10., 10., 50., 40.]], [0.9], [0], gt=([[12., 11., 49., 42.]], [0]))
    vis.add_datasample('x', img, with_gt, pred_score_thr=0.3)
    assert vis.get_image().shape == (96 * 4, 2 * 128 * 4, 3)  # factor 4, two panels
    assert torch.equal(with_gt.gt_instances.bboxes, torch.tensor([[12., 11., 49., 42.]]))
    # no annotations: the prediction alone (mmdet would put an undrawn copy beside it), also
    # when the sample carries the empty gt_instances that PackDetInputs adds
    vis.add_datasample('y', img, _sample([[10., 10., 50., 40.]], [0.9], [0]), pred_score_thr=0.3)
    assert vis.get_image().shape == (96 * 4, 128 * 4, 3)
    packed = _sample([[10., 10., 50., 40.]], [0.9], [0])
    packed.gt_instances = InstanceData()
    vis.add_datasample('z', img, packed, pred_score_thr=0.3)
    assert vis.get_image().shape == (96 * 4, 128 * 4, 3)


def test_one_box_per_object_best_class_drawn():
    vis = CenterNetDetVisualizer(name='test_vis_group', min_draw_size=0)
    vis.dataset_meta = dict(classes=('a', 'b', 'c'))
    img = np.full((200, 200, 3), 128, np.uint8)
    # the same peak scored for classes a and b: only a's box (the better) is drawn
    sample = _sample([[40., 40., 120., 120.], [40., 40., 120., 120.]], [0.8, 0.5], [0, 1])
    vis.add_datasample('x', img, sample, draw_gt=False, pred_score_thr=0.3)
    drawn = vis.get_image()
    colour_a, colour_b = class_colour(0, rgb=True), class_colour(1, rgb=True)
    assert (drawn == colour_a).all(-1).any()
    assert not (drawn == colour_b).all(-1).any()
