# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_pose_estimator import CenterNetPoseEstimator

__all__ = ['CenterNetPoseEstimator']
