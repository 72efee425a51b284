# Copyright (c) mmcenternet contributors. All rights reserved.
"""The oracle maps of the original's error analysis (``gen_oracle_map``) and the head's use of
them: with every map from ground truth, decoding returns the ground-truth boxes."""
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmcenternet.models.dense_heads import CenterNetDetHead
from mmcenternet.models.utils.oracle import oracle_map


def test_flood_fill_from_the_centres():
    values = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [9.0, 9.0]]])
    ind = torch.tensor([[1 * 5 + 1, 2 * 5 + 4, 0]])  # (1, 1), (4, 2); slot 2 unused (index 0)
    out = oracle_map(values, ind, 3, 5)
    assert out.shape == (1, 2, 3, 5)
    # breadth-first: a cell takes the value of the nearest centre (4-neighbour steps); at equal
    # distance the object of the earlier slot wins, as its cells enter the queue first
    expected = np.array([[1, 1, 1, 1, 2], [1, 1, 1, 1, 2], [1, 1, 1, 2, 2]], np.float32)
    np.testing.assert_array_equal(out[0, 0].numpy(), expected)
    np.testing.assert_array_equal(out[0, 1].numpy(), expected * 10)


def test_all_oracles_give_the_ground_truth_boxes():
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8,
                            test_cfg=dict(topk=10, oracle=['hm', 'wh', 'offset']))
    boxes = torch.tensor([[8., 6., 40., 30.], [30., 20., 60., 58.]])
    sample = DetDataSample()
    sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64),
                             homography_matrix=np.eye(3)))
    sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 2]))
    with torch.no_grad():
        res = head.predict([torch.randn(1, 8, 16, 16)], [sample], rescale=True)[0]
    top = res.scores >= 1 - 1e-6
    assert sorted(res.labels[top].tolist()) == [0, 2]
    got = res.bboxes[top][res.labels[top].argsort()]
    torch.testing.assert_close(got, boxes, atol=1e-4, rtol=0)


def test_oracle_needs_ground_truth_and_known_maps():
    head = CenterNetDetHead(num_classes=3, in_channels=8, head_conv=8,
                            test_cfg=dict(oracle=['hm']))
    sample = DetDataSample()
    sample.set_metainfo(dict(img_shape=(64, 64)))
    with pytest.raises(ValueError, match='needs the ground truth of the test images'):
        head.predict([torch.randn(1, 8, 16, 16)], [sample])
    head.test_cfg['oracle'] = ['kps']
    with pytest.raises(ValueError, match=r"unknown map\(s\) \['kps'\]"):
        head.predict([torch.randn(1, 8, 16, 16)], [sample])


def test_pose_oracles_give_the_ground_truth_joints():
    from mmcenternet.models.dense_heads import CenterNetPoseHead
    head = CenterNetPoseHead(in_channels=8, num_keypoints=3, head_conv=8,
                             flip_indices=[0, 2, 1],
                             test_cfg=dict(topk=10, oracle=['hm', 'kps', 'hmhp', 'hp_offset']))
    sample = DetDataSample()
    sample.set_metainfo(dict(img_shape=(64, 64)))
    joints = torch.tensor([[[20.5, 14.25], [12.75, 30.5], [30.25, 33.0]]])
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[8., 6., 40., 42.]]),
                                       keypoints=joints, keypoints_visible=torch.ones(1, 3))
    with torch.no_grad():
        res = head.predict([torch.randn(1, 8, 16, 16)], [sample])[0]
    assert res.bbox_scores[0] >= 1 - 1e-6
    # joints snapped to the ground-truth joint peaks plus their offsets: the input positions
    np.testing.assert_allclose(res.keypoints[0], joints[0].numpy(), atol=1e-4)
