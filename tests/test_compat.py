# Copyright (c) mmcenternet contributors. All rights reserved.
"""The compatibility patches: applied once, by ``import mmcenternet``, and listed."""
import importlib.util

import mmcenternet
from mmcenternet import compat


def test_patches_are_listed_and_applied_once():
    applied = list(compat.APPLIED)
    assert any('CheckpointLoader' in line for line in applied)
    assert any("'local' backend writes atomically" in line for line in applied)
    assert compat.apply() == applied  # a second call changes nothing
    torchvision = importlib.util.find_spec('torchvision') is not None
    assert any('mmpose registries' in line for line in applied) != torchvision


def test_mmengine_uses_the_patched_loaders_and_backend():
    from mmengine.fileio import backends
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmcenternet.utils.checkpoint_io import (AtomicLocalBackend, load_local_checkpoint,
                                                 load_url_checkpoint)
    assert CheckpointLoader._schemes[''] is load_local_checkpoint
    assert CheckpointLoader._schemes['https://'] is load_url_checkpoint
    assert backends.backends['local'] is AtomicLocalBackend


def test_the_package_applies_them_on_import():
    assert mmcenternet.compat.APPLIED
