# Copyright (c) mmcenternet contributors. All rights reserved.
from .curves_hook import CenterNetCurvesHook, plot_training_curves
from .det_drawing import describe_groups, draw_detections, draw_fps, group_detections
from .det_visualizer import CenterNetDetVisualizer, ordered_corners
from .pose_draw_hook import CenterNetPoseDrawHook
from .pose_drawing import draw_pose

__all__ = [
    'CenterNetDetVisualizer', 'ordered_corners', 'draw_pose', 'CenterNetPoseDrawHook',
    'draw_detections', 'draw_fps', 'group_detections', 'describe_groups', 'CenterNetCurvesHook',
    'plot_training_curves'
]
