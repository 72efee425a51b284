# Copyright (c) mmcenternet contributors. All rights reserved.
"""Mapping to the image: one function for tensors (detection) and arrays (pose)."""
import numpy as np
import torch

from mmcenternet.models.utils.geometry import map_points_to_image, project_to_image


def _homography():
    # image -> input: scale 0.5, then a shift (the test pipeline's resize and padding)
    return np.array([[0.5, 0, 7], [0, 0.5, 3], [0, 0, 1]], dtype=np.float64)


def test_tensor_and_array_agree_and_invert_the_homography():
    pts = np.array([[[7., 3.], [57., 28.]]], dtype=np.float32)
    as_array = map_points_to_image(pts, _homography())
    as_tensor = map_points_to_image(torch.from_numpy(pts), _homography())
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.dtype == torch.float32
    np.testing.assert_array_equal(as_tensor.numpy(), as_array)
    np.testing.assert_allclose(as_array, [[[0, 0], [100, 50]]], atol=1e-6)


def test_boxes_use_the_homography_else_the_scale_factor():
    boxes = torch.tensor([[7., 3., 57., 28.]])
    out = project_to_image(boxes, dict(homography_matrix=_homography()))
    np.testing.assert_allclose(out.numpy(), [[0, 0, 100, 50]], atol=1e-5)
    out = project_to_image(boxes, dict(scale_factor=(0.5, 0.25)))
    np.testing.assert_allclose(out.numpy(), [[14, 12, 114, 112]])
    arr = project_to_image(boxes.numpy(), dict(scale_factor=(0.5, 0.25)))
    np.testing.assert_allclose(arr, [[14, 12, 114, 112]])
    assert torch.equal(project_to_image(boxes, {}), boxes)


def test_projection_with_homography_and_with_plain_resize():
    boxes = torch.tensor([[20., 10., 60., 30.]])
    # keep_res canvas: image pasted at (16, 11)
    meta = dict(homography_matrix=np.array([[1, 0, 16], [0, 1, 11], [0, 0, 1.]]))
    assert project_to_image(boxes, meta).tolist() == [[4., -1., 44., 19.]]
    # mmdet's Resize with default meta keys: only scale_factor is packed
    assert project_to_image(boxes, dict(scale_factor=(2.0, 0.5))).tolist() == \
        [[10., 20., 30., 60.]]
