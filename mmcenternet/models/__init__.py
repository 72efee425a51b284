# Copyright (c) mmcenternet contributors. All rights reserved.
from . import backbones, dense_heads, detectors, losses, necks, task_modules, utils  # noqa: F401
from .backbones import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
