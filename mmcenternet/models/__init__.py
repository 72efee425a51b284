# Copyright (c) mmcenternet contributors. All rights reserved.
from . import (backbones, dense_heads, detectors, export_decoders, losses, necks,  # noqa: F401
               pose_estimators, task_modules, test_time_augs, utils)
from .backbones import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .pose_estimators import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .test_time_augs import *  # noqa: F401,F403
