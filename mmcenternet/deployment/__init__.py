# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deployment: ONNX export with the standard ``DeformConv`` and an onnxruntime backend.

``onnx`` and ``onnxruntime`` are optional (``pip install -e '.[deploy]'``); they are imported
only when a function needs them, which then names the package to install.
"""
from .decoders import CtdetDecoder, MultiPoseDecoder
from .deform_conv import ExportableDeformConv, replace_deform_convs
from .exdet_decoder import ExdetDecoder
from .exporter import build_model, check_onnx_model, export_decoder, export_model, export_onnx
from .onnxruntime_model import OnnxRuntimeNetwork, build_onnxruntime_model
from .utils import INSTALL_HINT, require, size_divisor

__all__ = [
    'CtdetDecoder', 'MultiPoseDecoder', 'ExdetDecoder', 'ExportableDeformConv',
    'replace_deform_convs', 'build_model', 'check_onnx_model', 'export_decoder', 'export_model',
    'export_onnx',
    'OnnxRuntimeNetwork', 'build_onnxruntime_model', 'INSTALL_HINT', 'require', 'size_divisor'
]
