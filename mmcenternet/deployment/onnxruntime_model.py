# Copyright (c) mmcenternet contributors. All rights reserved.
"""The config's own model with its network run by onnxruntime.

:func:`build_onnxruntime_model` builds the detector / pose estimator of a config (on the meta
device: no weights are allocated), keeps its data preprocessor, head and test-time code, and
replaces the backbone by :class:`OnnxRuntimeNetwork` (the exported network: raw maps out), the
neck by nothing and the head's convolutions by a pass-through. Everything after the network
(sigmoid, flip merging, decoding, mapping to the image, TTA, metrics) is therefore the very
code of the PyTorch path. It is registered in mmdet's and mmpose's ``MODELS`` as
``CenterNetOnnxRuntimeModel``; ``tools/test.py --backend onnxruntime --onnx FILE`` uses it.

The ONNX file must hold the raw maps (exported without ``--with-decoder``) of the same
architecture: input/output names, channel counts and the architecture signature stored by the
exporter are compared with the config's model, and a mismatch is refused with a message.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from torch import Tensor

from mmcenternet.models.dense_heads.centernet_head_module import CenterNetHeadModule
from mmcenternet.registry import DET_MODELS, POSE_MODELS
from mmcenternet.utils.errors import UserError
from .utils import META_PREFIX, find_head, head_layout, model_signature, raw_output_names, require

__all__ = ['OnnxRuntimeNetwork', 'RawMapsPassThrough', 'build_onnxruntime_model',
           'init_onnxruntime_detector', 'default_providers', 'read_metadata']


def default_providers() -> List[str]:
    """CUDA (then CPU) when both torch and onnxruntime see a GPU, otherwise CPU."""
    ort = require('onnxruntime')
    available = ort.get_available_providers()
    if torch.cuda.is_available() and 'CUDAExecutionProvider' in available:
        return ['CUDAExecutionProvider', 'CPUExecutionProvider']
    return ['CPUExecutionProvider']


def read_metadata(sess) -> Dict[str, str]:
    """The exporter's ``mmcenternet.*`` metadata of an ``InferenceSession`` (prefix removed)."""
    props = sess.get_modelmeta().custom_metadata_map or {}
    return {k[len(META_PREFIX):]: v for k, v in props.items() if k.startswith(META_PREFIX)}


class OnnxRuntimeNetwork(nn.Module):
    """Runs an exported network: ``(N, 3, H, W)`` inputs -> tuple of raw maps.

    Args:
        onnx_file: The exported model (raw maps).
        providers: onnxruntime execution providers (default: :func:`default_providers`).
        expected: ``{'names': [...], 'channels': [...], 'signature': str}`` of the config's
            model; a file that does not match is refused.
        what: How to name the config in messages.
        threads: onnxruntime's intra-op threads (default: its own choice, one per core).
    """

    def __init__(self, onnx_file: str, providers: Optional[Sequence[str]] = None,
                 expected: Optional[dict] = None, what: str = 'the config',
                 threads: Optional[int] = None) -> None:
        super().__init__()
        ort = require('onnxruntime')
        if not osp.isfile(onnx_file):
            raise UserError(f'ONNX file not found: {onnx_file}')
        self.onnx_file = onnx_file
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        try:
            self.engine = ort.InferenceSession(
                onnx_file, opts, providers=list(providers or default_providers()))
        except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own exception types)
            raise UserError(f'onnxruntime cannot load {onnx_file}: '
                            f'{str(exc).splitlines()[0]}') from None
        self.meta = read_metadata(self.engine)
        inputs = self.engine.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise UserError(f'{onnx_file} does not match {what}: it takes '
                            f'{[(i.name, i.shape) for i in inputs]}, expected one (N, 3, H, W) '
                            'image batch')
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        self.output_names = [o.name for o in self.engine.get_outputs()]
        self.size_divisor = int(self.meta.get('size_divisor', 1))
        self._validate(expected or {}, what)

    def _validate(self, expected: dict, what: str) -> None:
        name = self.onnx_file
        if not self.meta:
            raise UserError(f'{name} has no mmcenternet metadata (architecture signature, '
                            'padding rule, outputs): use a file written by '
                            'tools/deployment/export_onnx.py or quantize_onnx.py')
        if self.meta.get('outputs') == 'decoded':
            raise UserError(f'{name} was exported with --with-decoder (it returns detections); '
                            'the onnxruntime backend needs the raw maps: export it without '
                            '--with-decoder')
        channels = self.input_shape[1]
        if isinstance(channels, int) and channels != 3:
            raise UserError(f'{name} does not match {what}: its input has {channels} channels, '
                            'expected 3')
        names = expected.get('names')
        if names is not None and self.output_names != list(names):
            raise UserError(f'{name} does not match {what}: its outputs are '
                            f'{self.output_names}, the config\'s model returns {list(names)}')
        for out, want in zip(self.engine.get_outputs(), expected.get('channels') or []):
            have = out.shape[1] if len(out.shape) > 1 else None
            if len(out.shape) != 4 or (isinstance(have, int) and have != want):
                raise UserError(f'{name} does not match {what}: output {out.name} has shape '
                                f'{out.shape}, the config\'s model gives (N, {want}, h, w)')
        sig = self.meta.get('signature')
        if sig and expected.get('signature') and sig != expected['signature']:
            src = self.meta.get('config', 'another config')
            raise UserError(f'{name} does not match {what}: it was exported from {src}, whose '
                            f'architecture (layers and shapes) differs (signature {sig} vs '
                            f'{expected["signature"]})')

    def forward(self, x: Tensor):
        if x.dim() != 4:
            raise ValueError(f'expected an (N, 3, H, W) batch, got shape {tuple(x.shape)}')
        n, _, h, w = x.shape
        fixed_h, fixed_w = self.input_shape[2], self.input_shape[3]
        if (isinstance(fixed_h, int) and fixed_h != h) or (isinstance(fixed_w, int)
                                                           and fixed_w != w):
            raise UserError(f'{self.onnx_file} was exported for {fixed_h}x{fixed_w} inputs, but '
                            f'this batch is {h}x{w}; export with --dynamic to accept every '
                            'padded image size')
        if h % self.size_divisor or w % self.size_divisor:
            raise UserError(f'input {h}x{w} breaks the padding rule of {self.onnx_file}: sides '
                            f'must be multiples of {self.size_divisor}')
        array = x.detach().to('cpu', torch.float32).contiguous().numpy()
        if isinstance(self.input_shape[0], int) and self.input_shape[0] != n:
            runs = [self.engine.run(None, {self.input_name: array[i:i + 1]}) for i in range(n)]
            outs = [torch.cat([torch.from_numpy(r[j]) for r in runs]) for j in
                    range(len(self.output_names))]
        else:
            outs = [torch.from_numpy(o)
                    for o in self.engine.run(None, {self.input_name: array})]
        return tuple(o.to(x.device) for o in outs)

    def extra_repr(self) -> str:
        return f'onnx_file={self.onnx_file!r}, providers={self.engine.get_providers()}'


class RawMapsPassThrough(nn.Module):
    """Stands in for a :class:`CenterNetHeadModule`: the maps arrive ready, they pass through."""

    split = CenterNetHeadModule.split

    def __init__(self, heads: Dict[str, int], num_stacks: int) -> None:
        super().__init__()
        self.heads = dict(heads)
        self.num_stacks = int(num_stacks)

    def forward(self, maps: Sequence[Tensor]):
        maps = tuple(maps)
        want = len(self.heads) * self.num_stacks
        if len(maps) != want:
            raise ValueError(f'expected {want} raw maps, got {len(maps)}')
        return maps


def build_onnxruntime_model(onnx_file: str, model: dict, providers: Optional[Sequence[str]] = None,
                            config_name: Optional[str] = None,
                            threads: Optional[int] = None) -> nn.Module:
    """The model of config ``model`` with its network replaced by ``onnx_file`` (see above).

    Args:
        onnx_file: An ONNX file written by ``tools/deployment/export_onnx.py`` (raw maps).
        model: The config's ``model`` dict.
        providers: onnxruntime execution providers.
        config_name: The config file, for messages.
        threads: onnxruntime's intra-op threads (default: one per core).
    """
    from mmengine.registry import MODELS
    what = config_name or 'the config'
    model_cfg = ConfigDict(model)
    model_cfg.pop('init_cfg', None)
    with torch.device('meta'):
        net = MODELS.build(model_cfg)
    layout = head_layout(net)
    head = find_head(net)
    if layout is None or not isinstance(getattr(net, 'backbone', None), nn.Module):
        raise UserError(f'{what}: the onnxruntime backend supports models with a backbone and a '
                        f'CenterNet head module; got {type(net).__name__} with head '
                        f'{type(head).__name__}')
    count = len(layout['heads']) * layout['num_stacks']
    expected = dict(names=raw_output_names(layout, count),
                    channels=[c for _ in range(layout['num_stacks'])
                              for c in layout['heads'].values()],
                    signature=model_signature(net))
    dp_cfg = model_cfg.get('data_preprocessor') or dict(type='BaseDataPreprocessor')
    net.data_preprocessor = MODELS.build(dp_cfg)
    net.backbone = OnnxRuntimeNetwork(onnx_file, providers, expected, what, threads)
    if hasattr(net, 'neck'):
        net.neck = None
    head.head_module = RawMapsPassThrough(layout['heads'], layout['num_stacks'])
    left = [k for k, v in list(net.named_parameters()) + list(net.named_buffers())
            if v.device.type == 'meta']
    if left:
        raise UserError(f'{what}: the onnxruntime backend cannot stand in for every layer of '
                        f'{type(net).__name__}; layers left: {", ".join(left[:5])}')
    net.onnx_metadata = dict(net.backbone.meta)
    return net.eval()


def init_onnxruntime_detector(config, onnx_file: str, cfg_options: Optional[dict] = None,
                              threads: Optional[int] = None) -> nn.Module:
    """Deprecated: :func:`mmcenternet.apis.load_detector` with ``onnx_file``."""
    from mmcenternet.apis.inference import load_detector
    return load_detector(config, cfg_options=cfg_options, onnx_file=onnx_file, threads=threads)


def _register() -> None:
    for registry in (DET_MODELS, POSE_MODELS):
        if 'CenterNetOnnxRuntimeModel' not in registry.module_dict:
            registry.register_module(name='CenterNetOnnxRuntimeModel',
                                     module=build_onnxruntime_model)


_register()
