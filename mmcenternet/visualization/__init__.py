# Copyright (c) mmcenternet contributors. All rights reserved.
from .det_visualizer import CenterNetDetVisualizer, ordered_corners

__all__ = ['CenterNetDetVisualizer', 'ordered_corners']
