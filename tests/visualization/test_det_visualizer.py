# Copyright (c) mmcenternet contributors. All rights reserved.
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmcenternet.visualization import CenterNetDetVisualizer


def test_draws_unordered_and_outside_boxes_without_changing_predictions():
    vis = CenterNetDetVisualizer(name='test_vis_unordered')
    vis.dataset_meta = dict(classes=('a', 'b'), palette=[(255, 0, 0), (0, 255, 0)])
    sample = DetDataSample()
    boxes = torch.tensor([[30., 20., 10., 5.], [-20., -5., 80., 90.]])
    sample.pred_instances = InstanceData(bboxes=boxes.clone(), scores=torch.tensor([0.9, 0.8]),
                                         labels=torch.tensor([0, 1]))
    img = np.zeros((40, 50, 3), np.uint8)
    vis.add_datasample('x', img, sample, draw_gt=False, pred_score_thr=0.1)
    drawn = vis.get_image()
    assert drawn.shape == img.shape and drawn.any()
    assert torch.equal(sample.pred_instances.bboxes, boxes)
