# Copyright (c) mmcenternet contributors. All rights reserved.
"""The package's layers run one way (docs/architecture.md): no module imports a layer above its
own or a sibling package of its layer, so no package cycle can exist. Read from the source (every
import statement, those inside functions too), without importing anything."""
import ast
import os
import os.path as osp
from typing import Dict, Iterator, Set, Tuple

import pytest

PACKAGE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmcenternet')

#: Layer of each top-level part of the package, bottom first.
LAYERS: Dict[str, int] = {
    'utils': 0,  # error types, command-line glue, checkpoint files, generated datasets
    '': 1,  # the root modules: registry, compat, version
    'ops': 2,
    'models': 3,
    'datasets': 4, 'evaluation': 4, 'visualization': 4,
    'apis': 5,
    'deployment': 6,
    'pose': 7, 'tta': 7,  # deprecated aliases of the earlier layout: nothing may import them
}


def _part(module: str) -> str:
    """``mmcenternet.models.utils.flip`` -> ``models``; root modules -> ``''``."""
    parts = module.split('.')
    if len(parts) < 2:
        return ''
    sub = osp.join(PACKAGE, parts[1])
    return parts[1] if osp.isdir(sub) else ''


def _modules() -> Iterator[Tuple[str, str]]:
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(root, name)
                rel = osp.relpath(path, osp.dirname(PACKAGE))[:-3].replace(os.sep, '.')
                yield (rel[:-len('.__init__')] if rel.endswith('.__init__') else rel), path


def _imports(module: str, path: str) -> Set[str]:
    tree = ast.parse(open(path).read(), path)
    is_pkg = path.endswith('__init__.py')
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith('mmcenternet'))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.')
                base = base[:len(base) - node.level + (1 if is_pkg else 0)]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            if target.startswith('mmcenternet'):
                found.add(target)
                found.update(f'{target}.{a.name}' for a in node.names
                             if osp.exists(osp.join(osp.dirname(PACKAGE),
                                                    *f'{target}.{a.name}'.split('.')) + '.py'))
    return found


def test_every_part_has_a_layer():
    parts = {d for d in os.listdir(PACKAGE)
             if osp.isdir(osp.join(PACKAGE, d)) and not d.startswith('__')}
    assert parts <= set(LAYERS), f'add {sorted(parts - set(LAYERS))} to LAYERS and the docs'


def test_imports_run_one_way():
    upward = []
    for module, path in _modules():
        if module == 'mmcenternet':
            continue  # the package root imports every layer to register them
        own = _part(module)
        for target in _imports(module, path):
            other = _part(target)
            if other == own and target != 'mmcenternet':
                continue
            if target == 'mmcenternet' or LAYERS[other] > LAYERS[own] or \
                    (LAYERS[other] == LAYERS[own] and other != own):
                upward.append(f'{module} ({own or "root"}, layer {LAYERS[own]}) imports '
                              f'{target} ({other or "root"}, layer {LAYERS[other]})')
    assert not upward, '\n'.join(sorted(upward))


def test_the_layer_test_sees_an_upward_import(tmp_path):
    """The check can fail: a models module importing apis is reported."""
    fake = tmp_path / 'mmcenternet' / 'models'
    fake.mkdir(parents=True)
    (tmp_path / 'mmcenternet' / 'apis').mkdir()
    (tmp_path / 'mmcenternet' / 'apis' / 'inference.py').write_text('')
    bad = fake / 'bad.py'
    bad.write_text('def f():\n    from mmcenternet.apis.inference import load_detector\n')
    globals()['PACKAGE'] = str(tmp_path / 'mmcenternet')
    try:
        with pytest.raises(AssertionError, match='mmcenternet.models.bad .* imports '
                                                 'mmcenternet.apis.inference'):
            test_imports_run_one_way()
    finally:
        globals()['PACKAGE'] = PACKAGE_REAL


PACKAGE_REAL = PACKAGE
