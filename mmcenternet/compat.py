# Copyright (c) mmcenternet contributors. All rights reserved.
"""Every change mmcenternet makes to the behaviour of other packages, in one place.

:func:`apply` is called once, by ``import mmcenternet``; nothing else in the package patches
mmengine, mmdet or mmpose. Each patch below states what it changes, why, and for which versions;
:data:`APPLIED` lists the patches in force (``python -c "import mmcenternet.compat as c;
print(c.APPLIED)"`` after importing mmcenternet), and each is logged once at DEBUG level.

1. **Checkpoint loaders** (mmengine 0.10.7 on torch >= 2.6): torch 2.6 made ``torch.load``
   weights-only by default, so mmengine 0.10.7 can no longer read its own training checkpoints
   (they pickle the message hub) and ``--resume`` / ``load_from`` fail. The local-file and
   ``http(s)://`` loaders of mmengine's ``CheckpointLoader`` are replaced by
   :func:`~mmcenternet.utils.checkpoint_io.load_local_checkpoint` (weights-only first, full
   unpickling only for local files) and
   :func:`~mmcenternet.utils.checkpoint_io.load_url_checkpoint` (weights-only).
2. **Atomic checkpoint writes** (every mmengine 0.x): mmengine's local storage backend writes in
   place, so an interrupted save leaves a truncated checkpoint. It is replaced by
   :class:`~mmcenternet.utils.checkpoint_io.AtomicLocalBackend` (temporary file, then rename).
3. **mmpose without torchvision** (mmpose 1.3.x): mmpose imports torchvision only in
   ``mmpose.visualization``, but six of its registries (loops, runners, runner constructors,
   visualizers, vis backends, log processors) import that module lazily on their first lookup,
   so a pose run fails before it starts where torchvision is absent (PyPI's torchvision does not
   install beside a CPU torch). When torchvision is missing, the other mmpose packages are
   imported and those six registries marked as imported; lookups then resolve to mmengine's
   classes through the registry parents. ``PoseLocalVisualizer`` and ``PoseVisualizationHook``
   stay unavailable. With torchvision installed nothing is changed.
4. **pkg_resources notice** (mmengine 0.10.7 with setuptools < 82): mmengine imports
   ``pkg_resources``, whose deprecation warning would precede every tool's output; that one
   warning is filtered.
"""
import importlib
import importlib.util
import warnings
from typing import List

__all__ = ['apply', 'allow_mmpose_without_torchvision', 'APPLIED']

#: One line per patch in force (see the module documentation).
APPLIED: List[str] = []

_LAZY_REGISTRIES = ('LOOPS', 'RUNNERS', 'RUNNER_CONSTRUCTORS', 'VISUALIZERS', 'VISBACKENDS',
                    'LOG_PROCESSORS')
_IMPORTABLE = ('mmpose.codecs', 'mmpose.datasets', 'mmpose.engine', 'mmpose.evaluation',
               'mmpose.models')


def filter_pkg_resources_notice() -> None:
    """Patch 4: hide mmengine's ``pkg_resources`` deprecation notice."""
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)


def install_checkpoint_io() -> None:
    """Patches 1 and 2: mmcenternet's checkpoint loaders and atomic local writes."""
    from mmengine.fileio import register_backend
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmcenternet.utils.checkpoint_io import (AtomicLocalBackend, load_local_checkpoint,
                                                 load_url_checkpoint)
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_url_checkpoint,
                                     force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def allow_mmpose_without_torchvision() -> bool:
    """Patch 3, if torchvision is absent; return whether it was applied."""
    if importlib.util.find_spec('torchvision') is not None:
        return False
    for name in _IMPORTABLE:
        importlib.import_module(name)
    from mmpose import registry
    for name in _LAZY_REGISTRIES:
        getattr(registry, name)._imported = True
    return True


def apply() -> List[str]:
    """Apply the patches once (later calls change nothing); return :data:`APPLIED`."""
    if APPLIED:
        return APPLIED
    filter_pkg_resources_notice()
    APPLIED.append('warnings: mmengine pkg_resources deprecation notice filtered')
    install_checkpoint_io()
    APPLIED.append('mmengine CheckpointLoader: local and http(s) loaders replaced '
                   '(weights-only first, torch >= 2.6)')
    APPLIED.append("mmengine fileio: 'local' backend writes atomically (temporary file + rename)")
    if allow_mmpose_without_torchvision():
        APPLIED.append('mmpose registries LOOPS, RUNNERS, RUNNER_CONSTRUCTORS, VISUALIZERS, '
                       'VISBACKENDS, LOG_PROCESSORS: marked imported (torchvision absent)')
    from mmengine.logging import print_log
    for line in APPLIED:
        print_log(f'mmcenternet.compat: {line}', logger='current', level=10)
    return APPLIED
