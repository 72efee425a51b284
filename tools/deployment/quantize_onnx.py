# Copyright (c) mmcenternet contributors. All rights reserved.
"""Quantise an exported model to int8 for onnxruntime (static, calibrated on your images).

The backbone and neck convolutions become int8 (per-channel weights, calibrated uint8
activations, QDQ format); the heads, the deformable convolutions and their offset convolutions,
the backbone's stem and the up-sampling stay float32 (``--keep-fp32``), and the decoding stays
float32 in PyTorch. The result runs
wherever the float32 file runs:

    python tools/deployment/export_onnx.py CONFIG CKPT model.onnx --dynamic
    python tools/deployment/quantize_onnx.py CONFIG model.onnx model_int8.onnx \\
        --calib-dir data/coco/val2017 --num-images 64
    python tools/test.py CONFIG --onnx model_int8.onnx          # COCO AP of the int8 model
    python tools/misc/image_demo.py photos/ CONFIG --onnx model_int8.onnx

Without ``--calib-dir`` the first ``--num-images`` images of the config's test set calibrate.
Accuracy and speed of the int8 path: docs/speed.md.
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmcenternet  # noqa: E402,F401  (registers modules)
from mmengine.config import DictAction  # noqa: E402

from mmcenternet.deployment.quantize import KEEP_FP32_CHOICES  # noqa: E402
from mmcenternet.utils.cli import UserError, load_config, run_cli  # noqa: E402

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config the model was exported from')
    parser.add_argument('onnx', help='exported model (tools/deployment/export_onnx.py, raw maps)')
    parser.add_argument('output', help='the int8 .onnx file to write')
    parser.add_argument('--calib-dir', help='folder of calibration images (default: the '
                        "config's test set)")
    parser.add_argument('--num-images', type=int, default=32,
                        help='calibration images (the first N, sorted by name)')
    parser.add_argument('--keep-fp32', nargs='*', default=list(KEEP_FP32_CHOICES),
                        choices=KEEP_FP32_CHOICES,
                        help='parts kept float32 (default all; give none to quantise them too)')
    parser.add_argument('--per-tensor', action='store_true',
                        help='one weight scale per tensor instead of per output channel')
    parser.add_argument('--method', choices=['percentile', 'minmax', 'entropy'],
                        default='percentile', help='activation range calibration')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def folder_images(folder: str, limit: int):
    if not osp.isdir(folder):
        raise UserError(f'calibration folder not found: {folder}')
    files = sorted(osp.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise UserError(f'no images ({", ".join(IMAGE_EXTENSIONS)}) in calibration folder '
                        f'{folder}')
    return files[:limit]


def dataset_images(cfg, limit: int):
    from mmengine.registry import init_default_scope

    from mmcenternet.utils.config_checks import check_data_paths
    check_data_paths(cfg, ['test_dataloader'])
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmengine.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    files = [dataset.get_data_info(i)['img_path'] for i in range(min(limit, len(dataset)))]
    if not files:
        raise UserError(f'{cfg.filename}: the test set has no images to calibrate with; give '
                        '--calib-dir')
    return files


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.num_images < 1:
        raise UserError(f'--num-images must be at least 1, got {args.num_images}')
    from mmcenternet.deployment.quantize import calibration_inputs, quantize_onnx
    cfg = load_config(args.config, args.cfg_options)
    files = folder_images(args.calib_dir, args.num_images) if args.calib_dir else \
        dataset_images(cfg, args.num_images)
    start = time.perf_counter()
    arrays = calibration_inputs(cfg, files, args.num_images)
    # the file must belong to this config: the backend's checks, before the slow calibration
    from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model
    build_onnxruntime_model(args.onnx, cfg.model, config_name=cfg.filename)
    info = quantize_onnx(args.onnx, args.output, arrays, keep_fp32=args.keep_fp32,
                         per_channel=not args.per_tensor, method=args.method)
    print(f'wrote {args.output}: {info["quantized"]} convolutions int8, {info["kept_fp32"]} '
          f'float32 ({", ".join(args.keep_fp32) or "none kept"}), calibrated on '
          f'{info["calibration_images"]} image(s) in {time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    run_cli(main)
