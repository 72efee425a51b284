# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_base_head import CenterNetBaseHead
from .centernet_det_head import CenterNetDetHead
from .centernet_exdet_head import CenterNetExdetHead
from .centernet_head_module import HEATMAP_BIAS, CenterNetHeadModule
from .centernet_pose_head import CenterNetPoseHead
from .task_head import CenterNetTaskHead, task_head_of
from ..utils.geometry import project_to_image  # noqa: F401  (its earlier home)

__all__ = [
    'CenterNetBaseHead', 'CenterNetDetHead', 'CenterNetExdetHead', 'CenterNetHeadModule',
    'HEATMAP_BIAS', 'CenterNetPoseHead', 'CenterNetTaskHead', 'task_head_of'
]
