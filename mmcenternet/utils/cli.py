# Copyright (c) mmcenternet contributors. All rights reserved.
"""Command-line glue shared by the tools: reporting user errors in one line, reading configs."""
import copy
import os
import os.path as osp
import sys
from typing import Callable, Optional, Union

from mmengine.config import Config

from .errors import UserError

__all__ = ['UserError', 'run_cli', 'load_config', 'is_pose_config', 'set_local_rank']


def run_cli(main: Callable[[], None]) -> None:
    """Run a tool's ``main`` and report user errors as ``error: <message>`` (exit code 2)."""
    try:
        main()
    except (UserError, FileNotFoundError) as exc:
        msg = str(exc) if not isinstance(exc, FileNotFoundError) or not exc.filename else \
            f'{exc.strerror}: {exc.filename}'
        print(f'error: {msg}', file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001
        # Errors raised in data-loading workers arrive wrapped; report the ones about the
        # user's data (an undecodable image, a bad test scale) by their own message.
        for line in str(exc).splitlines()[::-1]:
            for marker in ('failed to load image', 'which has no pixel left'):
                if marker in line:
                    print(f'error: {line.split("Error: ")[-1].strip()}', file=sys.stderr)
                    sys.exit(2)
        raise


def load_config(path: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """Read a config (and overrides), with a clear message when the file is missing.

    A :class:`Config` object is copied (the caller's stays unchanged) and gets the overrides.
    """
    if isinstance(path, Config):
        cfg = copy.deepcopy(path)
    elif not osp.isfile(path):
        raise UserError(f'config file not found: {path}')
    else:
        cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def is_pose_config(cfg: Config) -> bool:
    """Whether ``cfg`` is a pose config (mmpose's default scope)."""
    return cfg.get('default_scope', 'mmdet') == 'mmpose'


def set_local_rank(local_rank: int) -> None:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)
