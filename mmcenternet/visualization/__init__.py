# Copyright (c) mmcenternet contributors. All rights reserved.
from .det_drawing import draw_detections, draw_fps
from .det_visualizer import CenterNetDetVisualizer, ordered_corners
from .pose_draw_hook import CenterNetPoseDrawHook
from .pose_drawing import draw_pose

__all__ = [
    'CenterNetDetVisualizer', 'ordered_corners', 'draw_pose', 'CenterNetPoseDrawHook',
    'draw_detections', 'draw_fps'
]
