# Copyright (c) mmcenternet contributors. All rights reserved.
"""Where mmcenternet's modules live: directly in mmdet's and mmpose's registries.

Detection configs run with ``default_scope='mmdet'`` and pose configs with ``'mmpose'``; both
reach every mmcenternet module by its bare name after ``custom_imports=dict(imports=['mmcenternet'])``.
Modules shared by both tasks (backbones, necks, head layers, losses) are registered in both model
registries with :func:`register_shared`. Names never collide with mmdet's or mmpose's own.
"""
from typing import Callable, Type

from mmdet.registry import DATASETS as DET_DATASETS
from mmdet.registry import METRICS as DET_METRICS
from mmdet.registry import MODELS as DET_MODELS
from mmdet.registry import TASK_UTILS
from mmdet.registry import TRANSFORMS as DET_TRANSFORMS
from mmdet.registry import VISUALIZERS as DET_VISUALIZERS
from mmengine.registry import MODELS as ROOT_MODELS
from mmpose.registry import DATASETS as POSE_DATASETS
from mmpose.registry import KEYPOINT_CODECS
from mmpose.registry import METRICS as POSE_METRICS
from mmpose.registry import MODELS as POSE_MODELS
from mmpose.registry import TRANSFORMS as POSE_TRANSFORMS

__all__ = [
    'DET_MODELS', 'DET_TRANSFORMS', 'DET_DATASETS', 'DET_METRICS', 'DET_VISUALIZERS', 'TASK_UTILS',
    'POSE_MODELS', 'POSE_TRANSFORMS', 'POSE_DATASETS', 'POSE_METRICS', 'KEYPOINT_CODECS',
    'ROOT_MODELS', 'register_shared', 'register_shared_transform'
]


def _register_both(first, second) -> Callable[[Type], Type]:

    def wrap(cls: Type) -> Type:
        first.register_module(module=cls)
        second.register_module(module=cls)
        return cls

    return wrap


#: Class decorator: register a model component in mmdet's and mmpose's ``MODELS``.
register_shared = _register_both(DET_MODELS, POSE_MODELS)
#: Class decorator: register a data transform in mmdet's and mmpose's ``TRANSFORMS``.
register_shared_transform = _register_both(DET_TRANSFORMS, POSE_TRANSFORMS)
