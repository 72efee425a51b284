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


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmcenternet.deployment.exporter import export_onnx
    from mmcenternet.deployment.verify import verify_export
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
        verify_export(result, args.config, args.checkpoint, shape, args.cfg_options)


if __name__ == '__main__':
    run_cli(main)
