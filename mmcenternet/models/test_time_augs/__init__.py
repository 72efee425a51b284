# Copyright (c) mmcenternet contributors. All rights reserved.
"""Test-time augmentation models: they loop over the views and let the head decode and merge."""
from .centernet_pose_tta import CenterNetPoseTTAModel
from .centernet_tta import CenterNetTTAModel

__all__ = ['CenterNetTTAModel', 'CenterNetPoseTTAModel']
