# Copyright (c) mmcenternet contributors. All rights reserved.
"""Train a model with an mmcenternet config (detection or pose).

Examples:
    python tools/train.py configs/centernet/dla34_2x_coco.py
    python tools/train.py CONFIG --resume                 # continue from WORK_DIR's last checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/epoch_10.pth
    tools/dist_train.sh configs/centernet/dla34_2x_coco.py 8   # 8 GPUs (or processes on CPU)
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcenternet  # noqa: E402,F401  (registers modules, fixes checkpoint I/O)
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmcenternet.utils.dataset_check import check_training_data  # noqa: E402
from mmcenternet.utils.cli import UserError, load_config, run_cli, set_local_rank  # noqa: E402
from mmcenternet.utils.config_checks import (check_data_paths,  # noqa: E402
                                             check_registered_types, check_stride_matches)
from mmcenternet.utils.distributed import (finish_distributed,  # noqa: E402
                                           setup_cpu_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (GPU only; losses stay in fp32)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr linearly with the total batch size '
                        '(relative to auto_scale_lr.base_batch_size)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or from the latest one in the work '
                        'dir when no path is given')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--skip-data-check', action='store_true',
                        help='do not check the training annotations before starting')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
        if cfg.get('train_cfg'):
            cfg.train_cfg['val_interval'] = 10**9
    check_registered_types(cfg, ['model', 'train_dataloader', 'val_dataloader', 'val_evaluator',
                                 'optim_wrapper', 'param_scheduler', 'default_hooks',
                                 'custom_hooks', 'visualizer'])
    check_stride_matches(cfg)
    check_data_paths(cfg, ['train_dataloader', 'val_dataloader'])
    if not args.skip_data_check:
        check_training_data(cfg)

    if args.amp:
        if not torch.cuda.is_available():
            raise UserError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper); train in '
                            'fp32 on CPU')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise UserError(f'{args.config} has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise UserError(f'checkpoint to resume from not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    elif cfg.get('load_from') and not str(cfg.load_from).startswith(('http://', 'https://')) \
            and not osp.isfile(cfg.load_from):
        raise UserError(f'load_from checkpoint not found: {cfg.load_from}')

    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    run_cli(main)
