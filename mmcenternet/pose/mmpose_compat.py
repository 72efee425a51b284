# Copyright (c) mmcenternet contributors. All rights reserved.
"""Let mmpose-scope configs run on installs without torchvision.

mmpose 1.3.2 imports torchvision in exactly one place, ``mmpose.visualization``. Several of
mmpose's registries import that module lazily on their first lookup: the visualizer, vis-backend
and log-processor registries (their import location), and the loop / runner registries (which
fall back to ``mmpose.utils.register_all_modules``). Under ``default_scope='mmpose'`` even
``TestLoop`` or ``LogProcessor`` are looked up there first, so without torchvision a pose run
fails before it starts, although it needs nothing from ``mmpose.visualization``.

When torchvision is not installed, :func:`allow_mmpose_without_torchvision` imports the other
mmpose packages those fallbacks would import and marks the six registries as imported; lookups
then resolve to mmengine's classes (``TestLoop``, ``Visualizer``, ``LocalVisBackend``,
``LogProcessor``, ...) through the registry parents. ``PoseLocalVisualizer`` and
``PoseVisualizationHook`` stay unavailable, as they need torchvision. With torchvision installed
nothing is changed.
"""
import importlib
import importlib.util

__all__ = ['allow_mmpose_without_torchvision']

_LAZY_REGISTRIES = ('LOOPS', 'RUNNERS', 'RUNNER_CONSTRUCTORS', 'VISUALIZERS', 'VISBACKENDS',
                    'LOG_PROCESSORS')
_IMPORTABLE = ('mmpose.codecs', 'mmpose.datasets', 'mmpose.engine', 'mmpose.evaluation',
               'mmpose.models')


def allow_mmpose_without_torchvision() -> bool:
    """Apply the adjustment if torchvision is absent; return whether it was applied."""
    if importlib.util.find_spec('torchvision') is not None:
        return False
    for name in _IMPORTABLE:
        importlib.import_module(name)
    from mmpose import registry
    for name in _LAZY_REGISTRIES:
        getattr(registry, name)._imported = True
    return True
