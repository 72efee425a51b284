# Copyright (c) mmcenternet contributors. All rights reserved.
"""Distributed launch on machines without GPUs (gloo) with mmengine 0.10.7."""
import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict

from .errors import UserError

__all__ = ['setup_cpu_distributed', 'finish_distributed']


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` work without GPUs (gloo) on mmengine 0.10.7.

    mmengine calls ``torch.cuda.set_device`` when it initialises the process group and gives DDP
    ``device_ids=[local_rank]``; both fail on CPU. The process group is therefore created here
    (mmengine then skips its own initialisation) and DDP is built without device ids.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise UserError(f'--launcher {launcher} needs GPUs; on a CPU-only machine use '
                        'tools/dist_train.sh (torchrun, --launcher pytorch)')
    cfg.env_cfg = cfg.get('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def finish_distributed() -> None:
    """Synchronise and close the process group (avoids gloo's abort at interpreter exit)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
