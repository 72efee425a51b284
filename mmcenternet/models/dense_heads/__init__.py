# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_det_head import CenterNetDetHead, project_to_image
from .centernet_exdet_head import CenterNetExdetHead
from .centernet_head_module import HEATMAP_BIAS, CenterNetHeadModule

__all__ = [
    'CenterNetDetHead', 'CenterNetExdetHead', 'CenterNetHeadModule', 'HEATMAP_BIAS',
    'project_to_image'
]
