# Copyright (c) mmcenternet contributors. All rights reserved.
from .centernet_base_head import CenterNetBaseHead
from .centernet_det_head import CenterNetDetHead, project_to_image
from .centernet_exdet_head import CenterNetExdetHead
from .centernet_head_module import HEATMAP_BIAS, CenterNetHeadModule

__all__ = [
    'CenterNetBaseHead', 'CenterNetDetHead', 'CenterNetExdetHead', 'CenterNetHeadModule', 'HEATMAP_BIAS',
    'project_to_image'
]
