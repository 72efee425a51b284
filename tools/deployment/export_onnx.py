# Copyright (c) mmcenternet contributors. All rights reserved.
"""Export a model to ONNX with standard operators only (opset 19: DeformConv), no custom ops.

Examples:
    python tools/deployment/export_onnx.py configs/centernet/dla34_1x_coco.py dla34.pth \\
        dla34.onnx --dynamic                      # raw maps, any padded input size
    python tools/deployment/export_onnx.py configs/centernet/dla34_1x_coco.py dla34.pth \\
        dla34_512.onnx --shape 512 512 --with-decoder --verify  # + decoder, checked vs PyTorch

The input is the normalised, padded image batch ``input`` (N, 3, H, W); the outputs are the raw
maps in the order of ``model(x, mode='tensor')`` or, with --with-decoder, ``bboxes``,
``scores``, ``labels`` (and ``keypoints`` for pose, ``extreme_points`` for exdet) of fixed size
K. See docs/deployment.md.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.utils.cli import UserError, run_cli  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export an mmcenternet model to ONNX (standard operators, opset >= 19)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (a converted or trained one)')
    parser.add_argument('output', help='the .onnx file to write')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), default=None,
                        help='input height and width (default 512 512); both must follow the '
                        "config's padding rule (multiples of 32, of 128 for Hourglass-104)")
    parser.add_argument('--dynamic', action='store_true',
                        help='free batch size, height and width (any size the padding rule '
                        'allows); --shape is then only the example input')
    parser.add_argument('--with-decoder', action='store_true',
                        help='append the decoder: fixed-size bboxes, scores, labels '
                        '(+ keypoints for pose, extreme_points for exdet) instead of the raw '
                        'maps')
    parser.add_argument('--opset', type=int, default=19, help='ONNX opset (19 or 20)')
    parser.add_argument('--verify', action='store_true',
                        help='run the file with onnxruntime and PyTorch on a random input of '
                        '--shape and print the largest differences')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def verify(result, config: str, checkpoint: str, shape, cfg_options=None) -> float:
    """Compare onnxruntime and PyTorch on one random input; returns the largest difference.

    Raw maps are compared element by element. Decoded rows are matched by content: the scores
    of the two runtimes differ by float rounding (about 1e-6), which can swap rows of nearly
    equal score (common with random weights), so each onnxruntime row is looked up among the
    PyTorch rows with the same label.
    """
    import numpy as np
    import torch

    from mmcenternet.deployment.exporter import build_model, make_decoder
    from mmcenternet.deployment.utils import require
    from mmcenternet.utils.cli import load_config
    ort = require('onnxruntime')
    cfg = load_config(config, cfg_options)
    model = build_model(cfg, checkpoint)
    x = torch.randn(1, 3, *shape, generator=torch.Generator().manual_seed(0))
    decoded = result['metadata']['outputs'] == 'decoded'
    with torch.no_grad():
        outs = model(x, data_samples=None, mode='tensor')
        if decoded:
            outs = make_decoder(model)[0](tuple(outs))
    sess = ort.InferenceSession(result['model_proto'].SerializeToString(),
                                providers=['CPUExecutionProvider'])
    got = sess.run(None, {'input': x.numpy()})
    ref = [o.numpy() for o in outs]
    if not decoded:
        worst = 0.0
        for name, a, b in zip(result['output_names'], got, ref):
            err = float(np.abs(a.astype(np.float64) - b).max()) if a.size else 0.0
            print(f'  {name:14s} max |onnxruntime - PyTorch| = {err:.3g}')
            worst = max(worst, err)
        return worst
    return _verify_rows(result['output_names'], got, ref)


def _verify_rows(names, got, ref) -> float:
    """Decoded outputs of image 0: scores in rank order, other columns by matched rows."""
    import numpy as np

    def table(outs):  # (K, D) float64: everything but the scores, label first
        cols = {n: np.asarray(o[0], np.float64).reshape(len(o[0]), -1) for n, o in
                zip(names, outs)}
        return np.concatenate([cols['labels']] + [c for n, c in cols.items()
                                                  if n not in ('labels', 'scores')], 1)

    a, b = table(got), table(ref)
    score_err = float(np.abs(got[names.index('scores')][0].astype(np.float64) -
                             ref[names.index('scores')][0]).max())
    print(f'  {"scores":14s} max |onnxruntime - PyTorch| = {score_err:.3g} (in rank order)')
    dist = np.abs(a[:, None, :] - b[None, :, :])
    dist[np.broadcast_to(dist[..., :1] > 0, dist.shape)] = np.inf  # other label: no match
    best = dist.max(-1).min(1)  # per onnxruntime row: the closest PyTorch row
    matched = best <= 1e-3
    coord_err = float(best[matched].max()) if matched.any() else float('nan')
    ref_scores = np.asarray(ref[names.index('scores')][0], np.float64)
    unmatched = np.asarray(got[names.index('scores')][0], np.float64)[~matched]
    # an unmatched row is explained when its score is (nearly) shared by another row: for equal
    # scores either runtime may pick other cells or quadruples
    shared = np.array([(np.abs(ref_scores - v) <= 1e-5).sum() > 1 for v in unmatched], bool)
    note = '' if matched.all() else (f'; {len(unmatched)} unmatched, {int(shared.sum())} of them '
                                     'with a score other rows share within 1e-5')
    print(f'  other outputs: {int(matched.sum())} of {len(best)} rows have a PyTorch row with '
          f'the same label within 1e-3 (largest difference {coord_err:.3g}){note}')
    return max(score_err, coord_err if shared.all() else float('inf'))


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmcenternet.deployment.exporter import export_onnx
    if not args.output.endswith('.onnx'):
        raise UserError(f'the output must be an .onnx file, got {args.output}')
    t0 = time.time()
    result = export_onnx(args.config, args.checkpoint, args.output, shape=args.shape,
                         dynamic=args.dynamic, with_decoder=args.with_decoder, opset=args.opset,
                         cfg_options=args.cfg_options)
    proto = result['model_proto']
    ops = sorted({n.op_type for n in proto.graph.node})
    print(f'wrote {args.output} ({osp.getsize(args.output) / 2**20:.1f} MiB, opset {args.opset}, '
          f'{len(proto.graph.node)} nodes, {time.time() - t0:.1f} s); onnx.checker (full) passed')
    print(f'  deformable convolutions exported as DeformConv: {len(result["deform_convs"])}')
    print(f'  operators: {", ".join(ops)}')

    def dims(value_info):
        return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]

    for v in proto.graph.input:
        print(f'  input  {v.name}: {dims(v)}')
    for v in proto.graph.output:
        print(f'  output {v.name}: {dims(v)}')
    if args.verify:
        shape = args.shape or (512, 512)
        print(f'verifying against PyTorch on a random {shape[0]}x{shape[1]} input:')
        verify(result, args.config, args.checkpoint, shape, args.cfg_options)


if __name__ == '__main__':
    run_cli(main)
