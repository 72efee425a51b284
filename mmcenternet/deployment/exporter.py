# Copyright (c) mmcenternet contributors. All rights reserved.
"""Export an mmcenternet model to ONNX with standard operators only (opset >= 19).

The exported graph takes the normalised, padded image batch ``input`` (N, 3, H, W) (what the
data preprocessor produces: BGR, ``(img - mean) / std``, sides multiples of the padding block)
and returns either

* the raw maps, in the order of ``model(x, mode='tensor')`` (``hm, wh, reg`` for ctdet;
  ``hm, wh, hps, reg, hm_hp, hp_offset`` for multi_pose; ``<branch>_<stack>`` for several
  stacks), or
* with ``with_decoder``, fixed-size detections of the last stack (:mod:`.decoders`):
  ``bboxes`` (N, K, 4), ``scores`` (N, K), ``labels`` (N, K) and for pose ``keypoints``
  (N, K, J, 2), for exdet ``extreme_points`` (N, K, 4, 2) (K = ``num_dets``), in
  network-input pixels.

Deformable convolutions become ONNX ``DeformConv`` nodes (:mod:`.deform_conv`); the file is
checked with ``onnx.checker`` (full check) and rejected if any node is outside the standard
domain. Metadata (``mmcenternet.*`` keys) records the pre-processing constants, the padding
rule, the outputs and a signature of the architecture for the onnxruntime backend.
"""
import io
import json
import os
import os.path as osp
import warnings
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from mmcenternet.utils.errors import UserError
from .deform_conv import replace_deform_convs, restore_deform_convs
from .utils import (META_PREFIX, check_input_shape, find_head, head_layout, model_signature,
                    raw_output_names, require, size_divisor, task_of)

__all__ = ['export_onnx', 'export_model', 'export_decoder', 'build_model', 'check_onnx_model',
           'ExportResult',
           'MIN_OPSET', 'MAX_OPSET']

MIN_OPSET = 19  # the first opset with DeformConv
MAX_OPSET = 20  # the highest opset of torch's TorchScript-based exporter
STANDARD_DOMAINS = ('', 'ai.onnx')


class ExportResult(dict):
    """What :func:`export_model` wrote: ``path``, ``input_names``, ``output_names``,
    ``metadata``, ``deform_convs`` (names of the converted layers), ``opset``."""


class _ExportWrapper(nn.Module):
    """``input -> raw maps`` or ``input -> decoded detections`` as one traceable module."""

    def __init__(self, model: nn.Module, decoder: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.model = model
        self.decoder = decoder

    def forward(self, x: torch.Tensor):
        outs = self.model(x, data_samples=None, mode='tensor')
        if isinstance(outs, torch.Tensor):
            outs = (outs, )
        outs = tuple(_flatten(outs))
        return self.decoder(outs) if self.decoder is not None else outs


def _flatten(outs) -> List[torch.Tensor]:
    if isinstance(outs, torch.Tensor):
        return [outs]
    if isinstance(outs, dict):
        outs = list(outs.values())
    flat = []
    for o in outs:
        flat.extend(_flatten(o))
    return flat


def make_decoder(model: nn.Module, test_cfg: Optional[dict] = None
                 ) -> Tuple[nn.Module, List[str], str]:
    """The export decoder of ``model``'s head: ``(module, output names, task)``."""
    head = find_head(model)
    decoder = None
    if head is not None:
        try:
            decoder = head.export_decoder(test_cfg)
        except NotImplementedError:
            decoder = None
        except ValueError as exc:  # a test setting the export decoder does not support
            raise UserError(f'--with-decoder: {exc}') from None
    if decoder is None:
        name = type(head if head is not None else getattr(model, 'bbox_head', model)).__name__
        raise UserError(
            f'--with-decoder: the decoder of the {name} head ({task_of(model)}) has no export '
            'version; export the raw maps (without --with-decoder) and decode them outside '
            'the graph')
    return decoder, list(decoder.output_names), head.task


@contextmanager
def _module_trail(model: nn.Module):
    """Record which modules are running, so that a failure can name the innermost one."""
    trail: List[str] = []
    names = {m: n for n, m in model.named_modules()}
    hooks = []

    def pre(module, args):
        trail.append(names.get(module, type(module).__name__))

    def post(module, args, out):
        if trail:
            trail.pop()

    for m in names:
        hooks.append(m.register_forward_pre_hook(pre))
        hooks.append(m.register_forward_hook(post))
    try:
        yield trail
    finally:
        for h in hooks:
            h.remove()


def _module_of_node(node_name: str, model: nn.Module) -> str:
    """``/model/neck/layers/layers.1/conv/Op`` -> ``neck.layers.1.conv (Class)``.

    The exporter names nodes by module scope; a child of a container appears with the
    container's name as prefix (``layers.1``), which is resolved against the parent.
    """
    modules = dict(model.named_modules())
    parts = [p for p in node_name.split('/') if p][:-1]
    if parts and parts[0] == 'model' and 'model' not in modules:
        parts = parts[1:]
    path = ''
    for part in parts:
        parent = path.rsplit('.', 1)[0] if '.' in path else ''
        for candidate in (f'{path}.{part}' if path else part,
                          f'{parent}.{part}' if parent else part):
            if candidate in modules:
                path = candidate
                break
        else:
            break
    module = modules.get(path)
    return f'{path} ({type(module).__name__})' if path and module is not None else node_name


def check_onnx_model(model_proto, source: Optional[nn.Module] = None) -> None:
    """``onnx.checker`` with full checking, then: every node in the standard ONNX domain."""
    onnx = require('onnx')
    try:
        onnx.checker.check_model(model_proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise UserError(f'the exported model fails onnx.checker: {str(exc).splitlines()[0]}')
    custom = [n for n in model_proto.graph.node if n.domain not in STANDARD_DOMAINS]
    if custom:
        n = custom[0]
        where = _module_of_node(n.name, source) if source is not None else n.name
        raise UserError(
            f'module {where} exports as the custom operator {n.domain}::{n.op_type}, which is '
            'not a standard ONNX operator; this module cannot be exported '
            f'({len(custom)} custom node(s) in all)')


def build_model(cfg: Config, checkpoint: Optional[str]) -> nn.Module:
    """The config's model in eval mode with ``checkpoint`` loaded (strictly).

    Built in the config's default scope (``mmdet`` or ``mmpose``), which is restored afterwards.
    """
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner import load_checkpoint

    from mmcenternet.utils.config_checks import check_checkpoint_matches
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        if checkpoint is not None:
            check_checkpoint_matches(cfg, checkpoint)
        # building runs no initialisation: nothing is downloaded (init_cfg)
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        try:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
        except RuntimeError as exc:
            raise UserError(f'checkpoint {checkpoint} does not fit {cfg.filename}: '
                            f'{str(exc).splitlines()[0]}') from None
    return model.eval()


def export_model(model: nn.Module,
                 output: str,
                 shape: Sequence[int] = (512, 512),
                 dynamic: bool = False,
                 with_decoder: bool = False,
                 opset: int = MIN_OPSET,
                 divisor: int = 32,
                 metadata: Optional[Dict[str, str]] = None,
                 test_cfg: Optional[dict] = None,
                 what: str = 'the model') -> ExportResult:
    """Export a built model (eval mode) to ``output``.

    Args:
        model: A detector or pose estimator answering ``model(x, mode='tensor')``.
        output: The ``.onnx`` file to write (``None``: not written, only returned in memory).
        shape: ``(H, W)`` of the example input (and the fixed input size without ``dynamic``).
        dynamic: Batch size, height and width become free dimensions.
        with_decoder: Append the export decoder (:func:`make_decoder`).
        opset: ONNX opset (19 or 20).
        divisor: Input sides must be multiples of this (the config's padding rule).
        metadata: Extra ``metadata_props`` entries.
        test_cfg: Overrides of the head's test settings for the decoder (``topk``, ...).
        what: How to name the model in messages (e.g. the config file).

    Returns:
        :class:`ExportResult`, with ``model_proto`` (the ``onnx.ModelProto``) added.
    """
    onnx = require('onnx')
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise UserError(f'--opset {opset}: DeformConv needs opset >= {MIN_OPSET} and the '
                        f'exporter supports up to {MAX_OPSET}')
    height, width = (int(s) for s in shape)
    check_input_shape(height, width, divisor, what)
    layout = head_layout(model)
    signature = model_signature(model)
    task = task_of(model)
    decoder, names = None, None
    if with_decoder:
        decoder, names, task = make_decoder(model, test_cfg)
    was_training = model.training
    replaced = replace_deform_convs(model.eval())
    try:
        result = _export(model, height, width, dynamic, with_decoder, decoder, names, layout,
                         opset, what, onnx)
    finally:
        restore_deform_convs(replaced)
        model.train(was_training)
    proto = result.pop('proto')
    if with_decoder:  # the tracer leaves the row count symbolic; it is a constant
        joints = (layout or {}).get('heads', {}).get('hps', 0) // 2
        for out in proto.graph.output:
            dims = out.type.tensor_type.shape.dim
            fixed = {1: decoder.rows, 2: joints} if out.name == 'keypoints' else \
                {1: decoder.rows}
            for axis, size in fixed.items():
                dims[axis].ClearField('dim_param')
                dims[axis].dim_value = size
    meta = {
        'version': _version(),
        'task': task,
        'outputs': 'decoded' if with_decoder else 'raw',
        'output_names': json.dumps(result['names']),
        'signature': signature,
        'size_divisor': str(divisor),
        'input_shape': json.dumps([None if dynamic else 1, 3, None if dynamic else height,
                                   None if dynamic else width]),
    }
    if layout is not None:
        meta['heads'] = json.dumps(layout['heads'])
        meta['num_stacks'] = str(layout['num_stacks'])
    if with_decoder:
        meta.update(decoder.metadata())
    meta.update(metadata or {})
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_PREFIX + key, str(value)
    proto.producer_name = 'mmcenternet'
    check_onnx_model(proto, model)
    if output:
        folder = osp.dirname(osp.abspath(output))
        os.makedirs(folder, exist_ok=True)
        onnx.save(proto, output)
    return ExportResult(path=output, input_names=['input'], output_names=result['names'],
                        metadata=meta, deform_convs=[r[-1] for r in replaced], opset=opset,
                        model_proto=proto)


def _export(model, height, width, dynamic, with_decoder, decoder, names, layout, opset, what,
            onnx) -> dict:
    """Trace ``model`` (deformable convolutions already replaced) into an ONNX proto."""
    wrapper = _ExportWrapper(model, decoder).eval()
    x = torch.zeros(1, 3, height, width)
    if with_decoder:
        ranks = [None] * len(names)  # only the batch axis is free
    elif layout is not None:
        count = len(layout['heads']) * layout['num_stacks']
        names, ranks = raw_output_names(layout, count), [4] * count
    else:  # outputs unknown until the model has run once
        with torch.no_grad(), _module_trail(model) as trail:
            try:
                outs = wrapper(x)
            except Exception as exc:  # noqa: BLE001
                where = trail[-1] if trail else 'the model'
                raise UserError(f'{what}: running module {where} for export failed: '
                                f'{type(exc).__name__}: {exc}') from None
        names = raw_output_names(layout, len(outs))
        ranks = [o.dim() for o in outs]
    dynamic_axes = None
    if dynamic:
        dynamic_axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}}
        for name, rank in zip(names, ranks):
            axes = {0: 'batch'}
            if not with_decoder and rank == 4:
                axes.update({2: 'out_height', 3: 'out_width'})
            dynamic_axes[name] = axes
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings(), _module_trail(model) as trail:
        warnings.simplefilter('ignore')
        try:
            torch.onnx.export(wrapper, (x, ), buf, dynamo=False, opset_version=opset,
                              input_names=['input'], output_names=names,
                              dynamic_axes=dynamic_axes, do_constant_folding=True)
        except Exception as exc:  # noqa: BLE001
            where = f' (in module {trail[-1]})' if trail else ''
            raise UserError(f'{what}: ONNX export failed{where}: {type(exc).__name__}: '
                            f'{str(exc).splitlines()[0] if str(exc) else ""}') from None
    return dict(proto=onnx.load_from_string(buf.getvalue()), names=names)


class _MapsIn(nn.Module):
    """A decoder with one graph input per raw map (it takes the maps as one sequence)."""

    def __init__(self, decoder: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, *maps: torch.Tensor):
        return self.decoder(maps)


def export_decoder(decoder: nn.Module, example: Sequence[torch.Tensor],
                   output: Optional[str] = None, opset: int = MIN_OPSET):
    """The export decoder alone as a checked ONNX model (for tests and benchmarks).

    Args:
        decoder: An export decoder (:mod:`mmcenternet.models.export_decoders`) for one stack.
        example: One raw map per ``decoder.heads``, (B, C, h, w); batch and map sizes are free
            in the graph.
        output: Also write the model to this file.
        opset: ONNX opset.

    Returns:
        The ``onnx.ModelProto``: inputs named as ``decoder.heads``, outputs
        ``decoder.output_names``.
    """
    onnx = require('onnx')
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(_MapsIn(decoder).eval(), tuple(example), buf, dynamo=False,
                          opset_version=opset, input_names=list(decoder.heads),
                          output_names=list(decoder.output_names),
                          dynamic_axes={h: {0: 'batch', 2: 'height', 3: 'width'}
                                        for h in decoder.heads},
                          do_constant_folding=True)
    proto = onnx.load_from_string(buf.getvalue())
    check_onnx_model(proto)
    if output:
        onnx.save(proto, output)
    return proto


def _version() -> str:
    from mmcenternet.version import __version__
    return __version__


def preprocess_metadata(cfg: Config) -> Dict[str, str]:
    """Mean, std and channel order of the config's data preprocessor (for users of the file)."""
    dp = cfg.model.get('data_preprocessor') or {}
    out = {}
    if 'mean' in dp:
        out['mean'] = json.dumps([float(v) for v in dp['mean']])
    if 'std' in dp:
        out['std'] = json.dumps([float(v) for v in dp['std']])
    out['bgr_to_rgb'] = str(bool(dp.get('bgr_to_rgb', False)))
    out['channel_order'] = 'rgb' if dp.get('bgr_to_rgb', False) or dp.get('rgb_to_bgr', False) \
        else 'bgr'
    return out


def export_onnx(config: str,
                checkpoint: Optional[str],
                output: str,
                shape: Optional[Sequence[int]] = None,
                dynamic: bool = False,
                with_decoder: bool = False,
                opset: int = MIN_OPSET,
                cfg_options: Optional[dict] = None) -> ExportResult:
    """Export the model of ``config`` with ``checkpoint``'s weights (see :func:`export_model`)."""
    from mmcenternet.utils.cli import load_config
    require('onnx')
    cfg = load_config(config, cfg_options)
    divisor = size_divisor(cfg)
    shape = tuple(shape) if shape else (512, 512)
    check_input_shape(int(shape[0]), int(shape[1]), divisor, f'{config} (--shape)')
    model = build_model(cfg, checkpoint)
    meta = dict(config=osp.basename(config), stride=str(getattr(find_head(model), 'stride', 4)))
    meta.update(preprocess_metadata(cfg))
    return export_model(model, output, shape=shape, dynamic=dynamic, with_decoder=with_decoder,
                        opset=opset, divisor=divisor, metadata=meta, what=config)
