# Copyright (c) mmcenternet contributors. All rights reserved.
"""Static int8 quantisation of an exported CenterNet model for onnxruntime.

The body (backbone and neck convolutions) is quantised: int8 weights per output channel, uint8
activations with ranges calibrated on images the user gives (the QDQ format, which onnxruntime
runs with its int8 kernels: VNNI / AVX-512 / AMX where the CPU has them). What stays float32,
and why:

* the **heads** (every node that only feeds the outputs: the heat-map, size and offset
  branches): an int8 heat map destroys the scores (the pitfall of quantised detectors), and
  the regression maps are the boxes;
* the **deformable convolutions** (``DeformConv``, which has no int8 kernel) and the
  convolutions that predict their offsets and masks: a rounded offset moves the sampling point;
* the **stem**, the backbone's leading convolutions up to its first one with an output stride
  of 8 or more (the rule of :mod:`mmcenternet.models.utils.precision`): every later layer
  inherits their rounding;
* the **up-sampling** transposed convolutions (depthwise, a small share of the work).

Each quantised convolution's ReLU is quantised with it: onnxruntime then drops the ReLU and
quantises the convolution's output once, on the ReLU's range (all 256 levels on non-negative
values). Quantising the convolutions alone puts a quantisation before the ReLU (half the levels
spent on negative values that the ReLU zeroes) and another after it; on a trained DLA-34 that
costs about 8 points of heat-map peaks (docs/speed.md).

The last two and the ``'percentile'`` calibration default were chosen by measuring the top-100
heat-map peaks of a trained DLA-34 against float32 (docs/speed.md); even so the int8 file does
not reach the float32 peaks closely enough to be a default path.

Sigmoid, peak test and decoding run in PyTorch on the float32 outputs as for every backend. The
file keeps the exporter's ``mmcenternet.*`` metadata, so ``tools/test.py --onnx`` and the image
demo check it against the config exactly as an unquantised file.
"""
import contextlib
import io
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Set

import numpy as np

from mmcenternet.utils.errors import UserError
from .utils import META_PREFIX, require

__all__ = ['head_nodes', 'deform_nodes', 'stem_nodes', 'upsampling_nodes',
           'ArrayCalibrationReader', 'calibration_inputs', 'quantize_onnx', 'KEEP_FP32_CHOICES']

#: What ``keep_fp32`` may name (all of them by default).
KEEP_FP32_CHOICES = ('heads', 'deform', 'stem', 'upsampling')
#: ``'stem'``: the convolutions before the first one with at least this output stride (int8 needs
#: more of the early layers in float32 than bfloat16 does, whose stem rule is
#: :data:`mmcenternet.models.utils.precision.STEM_INPUT_STRIDE`).
STEM_END_STRIDE = 8


def _consumers(graph) -> dict:
    found: dict = {}
    for node in graph.node:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _producers(graph) -> dict:  # tensor name -> the node writing it
    return {out: node for node in graph.node for out in node.output}


def head_nodes(model) -> Set[str]:
    """Names of the nodes of the heads' branches: those from which exactly one graph output
    is reachable (the shared feature map and everything before it reach all of them)."""
    graph = model.graph
    consumers = _consumers(graph)
    outputs = [o.name for o in graph.output]
    reach: dict = {}  # tensor name -> indices of the outputs it reaches
    for node in reversed(graph.node):  # ONNX graphs are topologically sorted
        found: Set[int] = set()
        for out in node.output:
            if out in outputs:
                found.add(outputs.index(out))
            for user in consumers.get(out, []):
                found |= reach.get(user.name, set())
        reach[node.name] = found
    return {name for name, found in reach.items() if len(found) == 1}


def deform_nodes(model) -> Set[str]:
    """``DeformConv`` nodes and the nodes computing their offsets and masks (back to the
    convolution that predicts them)."""
    graph = model.graph
    producers = _producers(graph)
    found: Set[str] = set()
    for node in graph.node:
        if node.op_type != 'DeformConv':
            continue
        found.add(node.name)
        for name in list(node.input[2:3]) + list(node.input[4:5]):  # offset, mask
            stack = [name]
            while stack:
                prod = producers.get(stack.pop())
                if prod is None or prod.name in found:
                    continue
                found.add(prod.name)
                if prod.op_type != 'Conv':  # Slice / Sigmoid / Concat ... up to the conv
                    stack.extend(prod.input[:1])
    return found


def stem_nodes(model, probe_size: int = 128) -> Set[str]:
    """The convolutions before the first one whose output stride is 8 or more, in graph order
    (shapes from ONNX shape inference on a ``probe_size`` square input)."""
    import copy

    import onnx

    probe = copy.deepcopy(model)
    dims = probe.graph.input[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, (1, 3, probe_size, probe_size)):
        dim.ClearField('dim_param')
        dim.dim_value = value
    inferred = onnx.shape_inference.infer_shapes(probe)
    widths = {vi.name: vi.type.tensor_type.shape.dim[-1].dim_value
              for vi in list(inferred.graph.value_info) + list(inferred.graph.output)
              if len(vi.type.tensor_type.shape.dim) == 4}
    found: Set[str] = set()
    for node in model.graph.node:
        if node.op_type not in ('Conv', 'DeformConv'):
            continue
        width = widths.get(node.output[0], 0)
        if width <= 0:
            raise UserError(f'cannot infer the output shape of {node.name}: keep_fp32 "stem" '
                            'needs ONNX shape inference to work on the model')
        if probe_size // width >= STEM_END_STRIDE:
            break
        found.add(node.name)
    return found


def upsampling_nodes(model) -> Set[str]:
    """The transposed convolutions (the necks' up-sampling)."""
    return {n.name for n in model.graph.node if n.op_type == 'ConvTranspose'}


class ArrayCalibrationReader:
    """onnxruntime's ``CalibrationDataReader`` over pre-processed ``(1, 3, H, W)`` arrays."""

    def __init__(self, input_name: str, arrays: Sequence[np.ndarray]) -> None:
        self.input_name = input_name
        self.arrays = list(arrays)
        self._it = iter(self.arrays)

    def get_next(self) -> Optional[dict]:
        arr = next(self._it, None)
        return None if arr is None else {self.input_name: arr}

    def rewind(self) -> None:
        self._it = iter(self.arrays)


def calibration_inputs(cfg, image_files: Iterable[str], limit: int) -> List[np.ndarray]:
    """The network inputs of up to ``limit`` images: the config's test pipeline and data
    pre-processor (normalisation, padding to the size divisor), as the backend feeds them."""
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    dp_cfg = cfg.model.get('data_preprocessor') or dict(type='BaseDataPreprocessor')
    preprocessor = MODELS.build(dp_cfg)
    arrays = []
    for path in image_files:
        if len(arrays) >= limit:
            break
        if not osp.isfile(path):
            raise UserError(f'calibration image not found: {path}')
        try:
            data = pipeline(dict(img_path=path, img_id=len(arrays)))
        except Exception as exc:  # noqa: BLE001  (loaders raise many types)
            raise UserError(f'cannot read calibration image {path}: '
                            f'{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}'
                            ) from None
        if data is None:
            raise UserError(f'cannot read calibration image {path}')
        with torch.no_grad():
            batch = preprocessor(pseudo_collate([data]), False)
        arrays.append(batch['inputs'].float().numpy())
    return arrays


def quantize_onnx(src: str, dst: str, arrays: Sequence[np.ndarray],
                  keep_fp32: Sequence[str] = KEEP_FP32_CHOICES, per_channel: bool = True,
                  method: str = 'percentile') -> dict:
    """Write an int8 (QDQ) copy of the exported model ``src`` to ``dst``.

    Args:
        src: ONNX file written by ``tools/deployment/export_onnx.py`` (raw maps, with its
            ``mmcenternet.*`` metadata).
        dst: Output file (written to a temporary name first, then renamed).
        arrays: Calibration inputs (:func:`calibration_inputs`).
        keep_fp32: Which parts stay float32 (:data:`KEEP_FP32_CHOICES`).
        per_channel: Per-output-channel weight scales (recommended).
        method: Activation range calibration: ``'percentile'`` (onnxruntime's 99.999 %),
            ``'minmax'`` or ``'entropy'``.

    Returns:
        ``{'quantized': n, 'kept_fp32': n, 'calibration_images': n}``.
    """
    onnx = require('onnx')
    require('onnxruntime')
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    if not osp.isfile(src):
        raise UserError(f'ONNX file not found: {src}')
    bad = [k for k in keep_fp32 if k not in KEEP_FP32_CHOICES]
    if bad:
        raise UserError(f'keep_fp32: unknown part(s) {bad}; choose from {KEEP_FP32_CHOICES}')
    if not arrays:
        raise UserError('no calibration images: give a folder with images or a config whose '
                        'test set has some')
    model = onnx.load(src)
    meta = {p.key[len(META_PREFIX):]: p.value for p in model.metadata_props
            if p.key.startswith(META_PREFIX)}
    if not meta:
        raise UserError(f'{src} has no mmcenternet metadata: quantise a file written by '
                        'tools/deployment/export_onnx.py')
    if meta.get('outputs') == 'decoded':
        raise UserError(f'{src} was exported with --with-decoder; quantise a raw-maps export '
                        '(the decoding stays float32 in PyTorch)')
    if meta.get('precision', 'fp32') != 'fp32':
        raise UserError(f'{src} is already quantised ({meta["precision"]})')
    excluded: Set[str] = set()
    if 'heads' in keep_fp32:
        excluded |= head_nodes(model)
    if 'deform' in keep_fp32:
        excluded |= deform_nodes(model)
    if 'stem' in keep_fp32:
        excluded |= stem_nodes(model)
    if 'upsampling' in keep_fp32:
        excluded |= upsampling_nodes(model)
    # a float32 convolution's ReLU stays float32 with it (quantising it would put a
    # quantisation on the float32 convolution's output)
    producers = _producers(model.graph)
    excluded |= {n.name for n in model.graph.node if n.op_type == 'Relu'
                 and getattr(producers.get(n.input[0]), 'name', None) in excluded}
    methods = dict(minmax=CalibrationMethod.MinMax, percentile=CalibrationMethod.Percentile,
                   entropy=CalibrationMethod.Entropy)
    if method not in methods:
        raise UserError(f'calibration method must be one of {sorted(methods)}, got {method!r}')
    input_name = model.graph.input[0].name
    tmp = dst + '.tmp.onnx'
    with contextlib.redirect_stdout(io.StringIO()):  # onnxruntime prints its progress
        quantize_static(src, tmp, ArrayCalibrationReader(input_name, arrays),
                        quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=['Conv', 'ConvTranspose', 'Relu'],
                        nodes_to_exclude=sorted(excluded), calibrate_method=methods[method],
                        extra_options=dict(ActivationSymmetric=False, WeightSymmetric=True))
    out = onnx.load(tmp)
    del out.metadata_props[:]
    for prop in model.metadata_props:
        out.metadata_props.add(key=prop.key, value=prop.value)
    convs = [n for n in model.graph.node if n.op_type in ('Conv', 'ConvTranspose')]
    quantized = [n for n in convs if n.name not in excluded]
    out.metadata_props.add(key=META_PREFIX + 'precision',
                           value=f'int8 (QDQ, {"per-channel" if per_channel else "per-tensor"} '
                           f'weights, {method} calibration on {len(arrays)} images; float32: '
                           f'{", ".join(keep_fp32) or "nothing"})')
    onnx.save(out, tmp)
    os.replace(tmp, dst)
    for leftover in (tmp, src + '-inferred.onnx'):
        if osp.exists(leftover):
            os.remove(leftover)
    return dict(quantized=len(quantized), kept_fp32=len(convs) - len(quantized),
                calibration_images=len(arrays))
