# Copyright (c) mmcenternet contributors. All rights reserved.
"""Deployment: ONNX export with the standard ``DeformConv`` and an onnxruntime backend.

``onnx`` and ``onnxruntime`` are optional (``pip install -e '.[deploy]'``); they are imported
only when a function needs them, which then names the package to install. The export decoders
belong to the heads (:mod:`mmcenternet.models.export_decoders`); they are re-exported here.
"""
from mmcenternet.models.export_decoders import CtdetDecoder, ExdetDecoder, MultiPoseDecoder
from mmcenternet.utils.deprecation import alias_modules
from .deform_conv import ExportableDeformConv, replace_deform_convs
from .exporter import build_model, check_onnx_model, export_decoder, export_model, export_onnx
from .onnxruntime_model import OnnxRuntimeNetwork, build_onnxruntime_model
from .utils import INSTALL_HINT, require, size_divisor
from .verify import verify_export

alias_modules(__name__, {
    'decoders': 'mmcenternet.models.export_decoders',
    'exdet_decoder': 'mmcenternet.models.export_decoders.exdet_export_decoder',
})

__all__ = [
    'CtdetDecoder', 'MultiPoseDecoder', 'ExdetDecoder', 'ExportableDeformConv',
    'replace_deform_convs', 'build_model', 'check_onnx_model', 'export_decoder', 'export_model',
    'export_onnx',
    'OnnxRuntimeNetwork', 'build_onnxruntime_model', 'INSTALL_HINT', 'require', 'size_divisor',
    'verify_export'
]
