# Copyright (c) mmcenternet contributors. All rights reserved.
"""Checkpoint reading and writing that works with mmengine 0.10.7 on torch >= 2.6.

The functions here are installed into mmengine by :func:`mmcenternet.compat.apply` (the one
place that changes other packages' behaviour); importing this module changes nothing.

* Local files: read with ``weights_only=True`` first. mmengine's own training checkpoints also
  pickle its message hub (``HistoryBuffer``) and numpy scalars, which the restricted unpickler
  rejects; a local file is the user's own, so it is then read in full. This is what makes
  ``--resume`` and ``load_from`` work again.
* ``http(s)://`` files: downloaded into torch's hub cache and read with ``weights_only=True`` only
  (a file from elsewhere never runs pickled code). Converted and published mmcenternet checkpoints
  hold plain tensors and simple metadata, so they load this way.
* Writing: files written through mmengine's local storage backend (checkpoints, ``last_checkpoint``)
  go to a temporary file in the same folder that is renamed over the target, so an interrupted
  save never leaves a truncated checkpoint behind.
"""
import os
import os.path as osp
import pickle
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

import torch
from mmengine.dist import get_dist_info
from mmengine.fileio import LocalBackend

from .errors import CheckpointReadError

__all__ = ['load_local_checkpoint', 'load_url_checkpoint', 'AtomicLocalBackend',
           'CheckpointReadError', 'torch_load']


def torch_load(path: str, map_location: Any = 'cpu', allow_pickle: bool = False) -> Any:
    """``torch.load`` with a message that names the file when it cannot be read.

    Args:
        path: Local file path.
        map_location: Passed to ``torch.load``.
        allow_pickle: Fall back to a full unpickle when the weights-only reader refuses the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if not allow_pickle:
            raise CheckpointReadError(
                f'{path} contains Python objects other than tensors and plain data and was '
                f'refused by the weights-only reader ({exc}).') from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointReadError(
            f'cannot read checkpoint {path}: the file is truncated, corrupt or not a PyTorch '
            f'checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""})'
        ) from exc
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
        raise CheckpointReadError(f'cannot read checkpoint {path}: {exc}') from exc


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """Local-file loader for mmengine (see the module docstring)."""
    return torch_load(osp.expanduser(filename), map_location=map_location, allow_pickle=True)


def load_url_checkpoint(filename: str, map_location: Any = None,
                        model_dir: Optional[str] = None) -> Any:
    """URL loader for mmengine: weights only, local rank 0 downloads first."""
    rank, world_size = get_dist_info()
    kwargs = dict(model_dir=model_dir, map_location=map_location, weights_only=True)
    if rank == 0:
        ckpt = torch.hub.load_state_dict_from_url(filename, **kwargs)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            ckpt = torch.hub.load_state_dict_from_url(filename, **kwargs)
    return ckpt


class AtomicLocalBackend(LocalBackend):
    """mmengine's local storage backend with write-to-temporary-then-rename writes."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        folder = osp.dirname(osp.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)
