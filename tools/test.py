# Copyright (c) mmcenternet contributors. All rights reserved.
"""Evaluate a checkpoint with an mmcenternet config (detection or pose).

Examples:
    python tools/test.py configs/centernet/dla34_2x_coco.py dla34_2x.pth            # no-aug
    python tools/test.py configs/centernet/dla34_2x_coco.py dla34_2x.pth --flip     # flip
    python tools/test.py configs/centernet/dla34_2x_coco.py dla34_2x.pth --tta      # flip + ms
    python tools/test.py CONFIG CKPT --out results.pkl --show-dir vis/
    python tools/test.py configs/centernet_pose/dla34_1x_coco.py pose.pth             # flip
    python tools/test.py configs/centernet_pose/dla34_1x_coco.py pose.pth --no-flip   # no-aug
    python tools/test.py configs/centernet/dla34_2x_coco.py --backend onnxruntime --onnx dla34.onnx
        (a model from tools/deployment/export_onnx.py --dynamic; same pre- and post-processing)
"""
import argparse
import os.path as osp
import sys
from copy import deepcopy

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
import torch  # noqa: E402
from mmengine.config import ConfigDict, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmcenternet.models.utils.precision import FP32_PARTS, KEEP_FP32  # noqa: E402
from mmcenternet.utils.cli import (UserError, is_pose_config, load_config,  # noqa: E402
                                   run_cli, set_local_rank)
from mmcenternet.utils.config_checks import (check_checkpoint_matches,  # noqa: E402
                                             check_data_paths, check_registered_types,
                                             check_stride_matches)
from mmcenternet.utils.distributed import (finish_distributed,  # noqa: E402
                                           setup_cpu_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file (not needed with --backend onnxruntime)')
    parser.add_argument('--work-dir', help='folder for logs and evaluation results')
    parser.add_argument('--out', help='dump predictions to a pickle file (.pkl)')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--show-dir',
                        help='save drawn predictions (beside the ground truth where the test '
                        'images have annotations) under WORK_DIR/TIMESTAMP/DIR')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds between --show images')
    parser.add_argument('--tta', action='store_true',
                        help="the original's flip + multi-scale test (the config's tta_scales)")
    parser.add_argument('--flip', action='store_true',
                        help="the original's flip test at a single scale")
    parser.add_argument('--no-flip', action='store_true',
                        help='pose configs: test without the flip test they enable by default')
    parser.add_argument('--tta-scales', type=float, nargs='+',
                        help='test scales for --tta (default: the config, 0.5 0.75 1 1.25 1.5)')
    parser.add_argument('--nms', action='store_true',
                        help="the original's --nms: soft-NMS per class (and the global score "
                        'cut) with a single test scale too')
    parser.add_argument('--oracle', nargs='+', default=None,
                        choices=['hm', 'wh', 'offset', 'kps', 'hmhp', 'hp_offset'],
                        help="the original's --eval_oracle_*: replace the predicted heat map, "
                        'sizes and / or offsets (pose: kps, hmhp, hp_offset) by the ground truth '
                        'of the test images (error analysis; needs annotated test data)')
    parser.add_argument('--fix-res', type=int, metavar='RES', default=None,
                        help="the original's fixed-resolution test (its default without "
                        '--keep_res): every image warped onto a RES x RES input (e.g. 512, or '
                        '384 for Pascal VOC) instead of the keep_res canvas')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default=None,
                        help='run the network with PyTorch (default) or with onnxruntime on '
                        'the --onnx file')
    parser.add_argument('--onnx', help='ONNX file (raw maps, exported with --dynamic) for '
                        '--backend onnxruntime')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32',
                        help='PyTorch backend: run the backbone, neck and regression branches '
                        'of the heads in bfloat16 (CPU or GPU) or float16 (GPU); heat-map '
                        'branches, sigmoid and decoding stay float32 (docs/speed.md has the '
                        'accuracy and speed)')
    parser.add_argument('--keep-fp32', nargs='*', choices=FP32_PARTS, default=None,
                        help='with --precision: parts kept float32 (default: '
                        f'{" ".join(KEEP_FP32)}; regression: the heads\' regression branches; '
                        'give none to run all of them in reduced precision)')
    parser.add_argument('--allow-tf32', action='store_true',
                        help='let cuDNN / cuBLAS use TF32 on Ampere+ GPUs (faster; off by default '
                        'so that GPU results stay within fp32 rounding of the original)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.backend is None:
        args.backend = 'onnxruntime' if args.onnx else 'pytorch'
    if args.backend == 'onnxruntime' and not args.onnx:
        parser.error('--backend onnxruntime needs --onnx FILE (written by '
                     'tools/deployment/export_onnx.py)')
    if args.backend == 'pytorch' and args.onnx:
        parser.error('--onnx is only used with --backend onnxruntime')
    if args.backend == 'onnxruntime' and args.precision != 'fp32':
        parser.error('--precision applies to the PyTorch backend; quantise the ONNX file for '
                     'onnxruntime (tools/deployment/quantize_onnx.py)')
    if args.keep_fp32 is not None and args.precision == 'fp32':
        parser.error('--keep-fp32 applies with --precision bf16 or fp16')
    if args.backend == 'pytorch' and not args.checkpoint:
        parser.error('the following arguments are required: checkpoint (or --backend '
                     'onnxruntime --onnx FILE)')
    set_local_rank(args.local_rank)
    return args


def apply_tta(cfg, args) -> None:
    """Wrap the model for the original's flip / multi-scale test."""
    pose = is_pose_config(cfg)
    if pose:
        # Pose models do flip testing inside the estimator (CenterNet's multi_pose default);
        # the multi-scale test wraps the estimator like the detection one.
        cfg.model.setdefault('test_cfg', ConfigDict())['flip_test'] = True
        if not (args.tta or args.tta_scales or args.nms):
            return
    if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
        base = 'centernet_pose_tta.py' if pose else 'centernet_tta.py'
        raise UserError(f'{cfg.filename} defines no tta_model / tta_pipeline; inherit '
                        f'configs/_base_/{base}')
    nms_only = args.nms and not (args.tta or args.tta_scales)
    single = (args.flip and not args.tta and not pose) or nms_only
    scales = [1.0] if single else args.tta_scales
    pipeline = deepcopy(cfg.tta_pipeline)
    tta = [t for t in pipeline if t['type'] == 'TestTimeAug']
    if scales is not None and tta:
        tta[0]['transforms'][0] = [dict(type='CenterNetTestResize', scale=s) for s in scales]
    if tta and not tta[0]['transforms'][0]:
        raise UserError(f'{cfg.filename}: the TTA pipeline has no test scales (tta_scales is '
                        'empty); give at least one, e.g. --tta-scales 1')
    for view in (tta[0]['transforms'][0] if tta else []):
        if view.get('type') == 'CenterNetTestResize' and not view.get('scale', 1.0) > 0:
            raise UserError(f'test scale {view.get("scale")} is not positive')
    tta_model = deepcopy(cfg.tta_model)
    if args.nms:
        tta_model['nms_single_scale'] = True
    if not pose and not (args.flip or args.tta):
        tta_model['flip'] = False  # --nms alone: the plain single-scale test, then soft-NMS
    cfg.model = ConfigDict(**tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = pipeline


def use_fixed_resolution(cfg, res: int) -> None:
    """Replace the keep_res canvas (``CenterNetPad``) of the test and TTA pipelines by the
    original's fixed-resolution warp (``CenterNetFixRes``)."""
    if res <= 0:
        raise UserError(f'--fix-res {res}: the input resolution must be positive')
    divisor = 128 if any(t.get('size_mask') == 127 for t in _pads(cfg)) else 32
    if res % divisor:
        raise UserError(f'--fix-res {res}: the network needs inputs that are multiples of '
                        f'{divisor}')
    found = False
    for pipeline in _pipelines_with_pad(cfg):
        for i, t in enumerate(pipeline):
            if isinstance(t, dict) and t.get('type') == 'CenterNetPad':
                pipeline[i] = dict(type='CenterNetFixRes', input_size=(res, res))
                found = True
            elif isinstance(t, list):
                for j, v in enumerate(t):
                    if v.get('type') == 'CenterNetPad':
                        t[j] = dict(type='CenterNetFixRes', input_size=(res, res))
                        found = True
    if not found:
        raise UserError(f'--fix-res: {cfg.filename} has no CenterNetPad in its test pipeline to '
                        'replace')


def _pipelines_with_pad(cfg):
    loader = cfg.get('test_dataloader') or {}
    ds = loader.get('dataset') or {}
    while 'dataset' in ds:
        ds = ds['dataset']
    yield ds.get('pipeline') or []
    for t in cfg.get('tta_pipeline') or []:
        if t.get('type') == 'TestTimeAug':
            yield t['transforms']


def _pads(cfg):
    for pipeline in _pipelines_with_pad(cfg):
        for t in pipeline:
            for v in (t if isinstance(t, list) else [t]):
                if isinstance(v, dict) and v.get('type') == 'CenterNetPad':
                    yield v


def use_oracle(cfg, maps) -> None:
    """Load the test images' boxes and let the head replace ``maps`` by ground truth."""
    allowed = ('hm', 'kps', 'hmhp', 'hp_offset') if is_pose_config(cfg) else \
        ('hm', 'wh', 'offset')
    wrong = [m for m in maps if m not in allowed]
    if wrong:
        raise UserError(f'--oracle {" ".join(wrong)}: not a map of this task; choose from '
                        f'{" ".join(allowed)}')
    if is_pose_config(cfg):  # the pose test samples carry their boxes and joints already
        cfg.model.setdefault('test_cfg', ConfigDict()).update(oracle=list(maps), flip_test=False)
        return
    load_annotations_at(next(_pipelines_with_pad(cfg)), 1)  # the test transforms move them
    cfg.model.setdefault('test_cfg', ConfigDict())['oracle'] = list(maps)


def enable_visualization(cfg, args) -> None:
    if is_pose_config(cfg):
        # mmpose's visualizer needs torchvision: pose pictures are drawn by mmcenternet's hook
        if args.show:
            raise UserError('--show (a window) is not available for pose configs; save the '
                            'pictures with --show-dir DIR')
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='CenterNetPoseDrawHook', out_dir=args.show_dir)]
        return
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise UserError(f'{cfg.filename} has no default_hooks.visualization to draw with')
    vis = hooks['visualization']
    vis['draw'] = True
    if args.show:
        vis['show'] = True
        vis['wait_time'] = args.wait_time
    if args.show_dir:
        vis['test_out_dir'] = args.show_dir
    evaluator = cfg.get('test_evaluator')
    if not args.oracle and not (isinstance(evaluator, dict) and evaluator.get('format_only')):
        add_ground_truth_for_drawing(cfg)


def add_ground_truth_for_drawing(cfg) -> None:
    """Load the test images' boxes after every test transform, so that the pictures show the
    ground truth (in image coordinates, untouched by padding or resizing) beside the prediction.
    Pipelines of other shapes (test-time augmentation, concatenated datasets) are left alone."""
    pipeline = cfg.test_dataloader.get('dataset', {}).get('pipeline')
    if not isinstance(pipeline, list) or not pipeline or \
            pipeline[-1].get('type', '').split('.')[-1] != 'PackDetInputs':
        return
    load_annotations_at(pipeline, len(pipeline) - 1)


def load_annotations_at(pipeline: list, index: int) -> None:
    """Insert mmdet's box loading at ``index`` unless the pipeline loads annotations already."""
    if not any(t.get('type', '').split('.')[-1] == 'LoadAnnotations' for t in pipeline):
        pipeline.insert(index, dict(type='LoadAnnotations', with_bbox=True))


def use_onnxruntime(cfg, onnx_file: str) -> None:
    """Replace the network of ``cfg.model`` (inside a TTA wrapper, if any) by ``onnx_file``."""
    from mmcenternet.deployment.onnxruntime_model import build_onnxruntime_model  # noqa: F401
    from mmcenternet.deployment.utils import require
    require('onnxruntime')
    if not osp.isfile(onnx_file):
        raise UserError(f'ONNX file not found: {onnx_file}')
    parent, key = (cfg.model, 'module') if 'module' in cfg.model else (cfg, 'model')
    parent[key] = ConfigDict(type='CenterNetOnnxRuntimeModel', onnx_file=onnx_file,
                             model=parent[key], config_name=cfg.filename)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    check_registered_types(cfg, ['model', 'test_dataloader', 'test_evaluator', 'tta_model',
                                 'tta_pipeline', 'visualizer'])
    check_stride_matches(cfg)
    check_data_paths(cfg, ['test_dataloader'])
    if args.backend == 'pytorch':
        check_checkpoint_matches(cfg, args.checkpoint)
        cfg.load_from = args.checkpoint
    else:
        if args.checkpoint:
            print(f'note: --backend onnxruntime runs {args.onnx}; the checkpoint '
                  f'{args.checkpoint} is not used', file=sys.stderr)
        cfg.load_from = None
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.no_flip and (args.tta or args.flip):
        raise UserError('--no-flip contradicts --flip / --tta')
    if args.no_flip and is_pose_config(cfg):
        cfg.model.setdefault('test_cfg', ConfigDict())['flip_test'] = False
    if args.fix_res is not None:
        use_fixed_resolution(cfg, args.fix_res)
    if args.oracle:
        if args.tta or args.flip or args.tta_scales or args.nms:
            raise UserError('--oracle replaces the maps of the single-scale test; drop --flip, '
                            '--tta, --tta-scales and --nms')
        use_oracle(cfg, args.oracle)
    if args.tta or args.flip or args.tta_scales or args.nms:
        apply_tta(cfg, args)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise UserError(f'--out must name a .pkl file, got {args.out}')
    if args.backend == 'onnxruntime':
        use_onnxruntime(cfg, args.onnx)
    if not args.allow_tf32:
        # TF32 convolutions round inputs to 10-bit mantissas: results would drift by ~1e-3.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    setup_cpu_distributed(cfg, args.launcher)

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.precision != 'fp32':
        from mmcenternet.models.utils import set_inference_precision
        keep = KEEP_FP32 if args.keep_fp32 is None else args.keep_fp32
        try:
            set_inference_precision(runner.model, args.precision, keep_fp32=keep)
        except ValueError as exc:
            raise UserError(f'--precision {args.precision}: {exc}') from None
    if args.out is not None:
        if is_pose_config(cfg):
            from mmengine.evaluator import DumpResults
            runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
        else:
            from mmdet.evaluation import DumpDetResults
            runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    run_cli(main)
