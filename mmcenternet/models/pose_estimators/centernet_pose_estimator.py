# Copyright (c) mmcenternet contributors. All rights reserved.
"""mmpose's bottom-up estimator with CenterNet's geometry and initialisation rules."""
from typing import List

from mmengine.logging import print_log
from mmpose.models.pose_estimators import BottomupPoseEstimator

from mmcenternet.registry import POSE_MODELS
from ..utils.geometry import map_points_to_image

__all__ = ['CenterNetPoseEstimator', 'map_points_to_image']  # the latter: its earlier home


@POSE_MODELS.register_module()
class CenterNetPoseEstimator(BottomupPoseEstimator):
    """``BottomupPoseEstimator`` for CenterNet ``multi_pose``.

    Two differences from the parent:

    * predictions are mapped back to the image with the inverse of the pipeline's
      ``homography_matrix`` (exact for the original's keep_res canvas, with or without a test
      resize); samples without it fall back to mmpose's ``input_size`` / ``input_center`` /
      ``input_scale`` mapping;
    * a state dict of a detection model (``bbox_head.*`` keys, e.g. a converted ``ctdet``
      checkpoint given as ``load_from``) loads into the pose head (``head.*``); weights whose shape
      differs (the 80-class ``hm`` output layer) are then skipped by mmengine's non-strict loader
      with a warning and keep their fresh initialisation, as the original's ``load_model`` does
      when ``multi_pose`` training starts from ``ctdet_coco_dla_2x.pth``.
    """

    def add_pred_to_datasample(self, batch_pred_instances, batch_pred_fields,
                               batch_data_samples) -> List:
        if not all('homography_matrix' in ds.metainfo for ds in batch_data_samples):
            return super().add_pred_to_datasample(batch_pred_instances, batch_pred_fields,
                                                  batch_data_samples)
        if len(batch_pred_instances) != len(batch_data_samples):
            raise ValueError(f'{len(batch_pred_instances)} predictions for '
                             f'{len(batch_data_samples)} samples')
        fields = batch_pred_fields or [None] * len(batch_data_samples)
        for pred, field, sample in zip(batch_pred_instances, fields, batch_data_samples):
            matrix = sample.metainfo['homography_matrix']
            pred.keypoints = map_points_to_image(pred.keypoints, matrix)
            if 'bboxes' in pred:
                boxes = pred.bboxes.reshape(-1, 2, 2)
                pred.bboxes = map_points_to_image(boxes, matrix).reshape(-1, 4)
            if 'keypoints_visible' not in pred:
                pred.keypoints_visible = pred.keypoint_scores
            sample.pred_instances = pred
            if field is not None:
                sample.pred_fields = field
        return batch_data_samples

    def _load_state_dict_pre_hook(self, state_dict, prefix, local_meta, *args, **kwargs):
        renamed = _detection_head_to_pose_head(state_dict, prefix)
        if renamed:
            print_log(f'{self.__class__.__name__}: loading {renamed} detection head weights '
                      f'({prefix}bbox_head.* -> {prefix}head.*); weights of another shape keep '
                      'their initialisation', logger='current')
        super()._load_state_dict_pre_hook(state_dict, prefix, local_meta, *args, **kwargs)


def _detection_head_to_pose_head(state_dict: dict, prefix: str) -> int:
    """Rename ``bbox_head.*`` to ``head.*`` in place when no ``head.*`` key exists."""
    det, pose = prefix + 'bbox_head.', prefix + 'head.'
    if not any(k.startswith(det) for k in state_dict) or \
            any(k.startswith(pose) for k in state_dict):
        return 0
    items = list(state_dict.items())
    moved = 0
    for key, _ in items:
        del state_dict[key]
    for key, value in items:
        if key.startswith(det):
            key = pose + key[len(det):]
            moved += 1
        state_dict[key] = value
    return moved
