#!/usr/bin/env python3
"""Create or reuse the project's virtual environment and install what is missing.

Run by ``make demo`` and ``make test`` with the system ``python3`` (standard library only).
Every component is probed first, so a second run with everything present only imports and
exits (a few seconds). Versions come from ``requirements/constraints.txt``.

What gets installed, in order, and only when missing or incompatible:

1. build helpers (setuptools < 82, wheel, ninja, cython, numpy);
2. torch: an importable one is reused; otherwise ``torch==<pin>``; on a machine without an
   NVIDIA GPU the CPU build (``+cpu``) is requested so that no multi-GB CUDA build is pulled;
3. mmengine, mmdet, pycocotools and the other pure-Python dependencies;
4. mmcv with compiled ops, built from source against the installed torch (``MMCV_WITH_OPS=1``;
   ``FORCE_CUDA=1`` when CUDA is usable). The wheel is kept in
   ``~/.cache/mmcenternet/wheels/<mmcv>-<torch>-<cpu|cuXY>-<python>/`` so that the 14 to 17 minute build
   (2 CPU cores) happens once per machine and torch build;
5. mmpose with ``--no-deps`` (its ``chumpy`` requirement is unused and unbuildable) plus
   json_tricks, munkres and xtcocotools built from source against the installed numpy;
6. mmcenternet itself in editable mode, and the test requirements;
7. the ``deploy`` extra (onnx, onnxruntime) that the ONNX export tests need; an installed
   ``onnxruntime-gpu`` counts as onnxruntime.

Environment knobs: ``MMCENTERNET_WHEEL_CACHE`` (wheel cache folder), ``FORCE_CUDA=1`` (build CUDA ops
even when no GPU is visible), ``TORCH_CUDA_ARCH_LIST`` (e.g. ``"8.0;9.0"``, passed to the mmcv build),
``MAX_JOBS`` (parallel compile jobs), ``TORCH_INDEX_URL`` (where to get torch when the default fails).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / 'requirements' / 'constraints.txt'
CPU_TORCH_INDEX = 'https://download.pytorch.org/whl/cpu'

PROBE = r'''
import importlib, importlib.metadata as md, json, os, sys
out = {'python': '%d.%d' % sys.version_info[:2]}
def dist(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
for name in ['setuptools', 'wheel', 'ninja', 'Cython', 'numpy', 'mmengine', 'mmdet', 'mmpose',
             'pycocotools', 'xtcocotools', 'json_tricks', 'munkres', 'pytest', 'pytest-xdist',
             'opencv-python',
             'scipy', 'matplotlib', 'terminaltables', 'shapely', 'onnx', 'onnxruntime',
             'onnxruntime-gpu']:
    out[name] = dist(name)
try:
    import pkg_resources  # noqa: F401  (mmengine 0.10.7 needs it at run time)
    out['pkg_resources'] = True
except Exception:
    out['pkg_resources'] = False
try:
    import torch
    out['torch'] = torch.__version__
    out['torch_cuda'] = torch.version.cuda
    out['cuda_available'] = bool(torch.cuda.is_available())
except Exception as exc:
    out['torch'] = None
    out['torch_error'] = repr(exc)
try:
    import mmcv
    out['mmcv'] = mmcv.__version__
    from mmcv.ops import ModulatedDeformConv2d  # noqa: F401  (needs mmcv._ext)
    out['mmcv_ops'] = True
except Exception as exc:
    out.setdefault('mmcv', None)
    out['mmcv_ops'] = False
    out['mmcv_error'] = repr(exc)[:300]
for name in ['xtcocotools', 'pycocotools']:
    try:
        importlib.import_module(name + '.coco')
        out[name + '_import'] = True
    except Exception as exc:
        out[name + '_import'] = False
try:
    d = md.distribution('mmcenternet')
    info = json.loads(d.read_text('direct_url.json') or '{}')
    out['mmcenternet'] = d.version
    out['mmcenternet_editable'] = bool(info.get('dir_info', {}).get('editable'))
    out['mmcenternet_url'] = info.get('url', '')
except md.PackageNotFoundError:
    out['mmcenternet'] = None
print(json.dumps(out))
'''


def log(msg: str) -> None:
    print(f'[setup] {msg}', flush=True)


# ----------------------------------------------------------------------------- failures
# What a failed pip run printed, mapped to the one thing that is missing and how to get it.
NETWORK_SIGNS = ('Failed to establish a new connection', 'Temporary failure in name resolution',
                 'Name or service not known', 'Network is unreachable', 'Connection refused',
                 'Read timed out', 'ProxyError', 'SSLError', 'No matching distribution found',
                 'Could not find a version that satisfies')
COMPILER_SIGNS = ("command 'gcc' failed", "command 'g++' failed", "command 'c++' failed",
                  "command 'cc' failed", "unable to execute 'gcc'", "unable to execute 'c++'",
                  'Python.h: No such file', 'No CUDA runtime is found', 'error: command',
                  "No such file or directory: 'c++'", "No such file or directory: 'gcc'")
COMPILER_HOWTO = ('install a C/C++ compiler and the Python headers (Debian/Ubuntu: sudo apt-get '
                  'install build-essential python3-dev; Fedora/RHEL: sudo dnf install gcc-c++ '
                  'python3-devel; macOS: xcode-select --install)')


def explain_pip_failure(output: str, what: str) -> str:
    """One line saying why installing ``what`` failed and how to get it, from pip's output."""
    head = f'[setup] could not install {what}'
    if any(sign in output for sign in NETWORK_SIGNS):
        return (f'{head}: it is not installed and pip could not download it (no network, or the '
                'package index is unreachable). Connect to the network, or point pip at a '
                'mirror or a folder of wheels (PIP_INDEX_URL=... or PIP_FIND_LINKS=/path), then '
                'run the command again.')
    if any(sign in output for sign in COMPILER_SIGNS):
        return (f'{head}: it is built from source here and the build failed for want of a '
                f'compiler or headers: {COMPILER_HOWTO}, then run the command again.')
    last = [line.strip() for line in output.splitlines() if line.strip()]
    return (f'{head}: pip failed ({last[-1] if last else "no output"}); the lines above say '
            'more.')


def missing_compiler(which: Callable[[str], Optional[str]] = shutil.which,
                     include_dir: Optional[str] = None) -> Optional[str]:
    """What a source build lacks (a C++ compiler, Python.h), or None when nothing is missing."""
    compilers = [os.environ.get('CXX', ''), 'c++', 'g++', 'clang++']
    if not any(which(c) for c in compilers if c):
        return 'a C++ compiler (g++ or clang++)'
    include = include_dir or sysconfig.get_paths()['include']
    if not (Path(include) / 'Python.h').is_file():
        return f'the Python development headers ({Path(include) / "Python.h"} is missing)'
    return None


def wheel_cache_root() -> Path:
    return Path(os.environ.get('MMCENTERNET_WHEEL_CACHE',
                               Path.home() / '.cache' / 'mmcenternet' / 'wheels'))


def read_pins() -> dict:
    """Return ``{name: version}`` for every ``name==version`` line of the constraints file."""
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if '==' in line:
            name, ver = line.split('==', 1)
            pins[name.strip().lower()] = ver.strip()
    return pins


class Env:
    """A virtual environment and the commands run inside it."""

    def __init__(self, venv: Path):
        self.venv = venv
        self.python = venv / 'bin' / 'python'

    def create(self) -> None:
        if self.python.exists():
            return
        cmd = [sys.executable, '-m', 'venv', str(self.venv)]
        # Reuse a torch the system interpreter already has (e.g. a CUDA build on a GPU box).
        if subprocess.run([sys.executable, '-c', 'import torch'],
                          capture_output=True).returncode == 0:
            log('system python has torch: the venv sees system site-packages to reuse it')
            cmd.append('--system-site-packages')
        log(f'creating {self.venv}')
        subprocess.run(cmd, check=True)
        self.pip('install', '--upgrade', 'pip', quiet=True)

    def probe(self) -> dict:
        res = subprocess.run([str(self.python), '-c', PROBE], capture_output=True, text=True,
                             cwd='/')
        if res.returncode != 0:
            raise SystemExit(f'[setup] probing {self.python} failed:\n{res.stderr}')
        return json.loads(res.stdout.strip().splitlines()[-1])

    def pip(self, *args, quiet=False, env=None, check=True) -> int:
        """Run pip, showing its output; on failure (``check``) stop with one line that says
        what is missing and how to get it (:func:`explain_pip_failure`)."""
        cmd = [str(self.python), '-m', 'pip', *args]
        if quiet:
            cmd.insert(3, '-q')
        log('$ ' + ' '.join(cmd[2:]))
        full_env = dict(os.environ)
        full_env.update(env or {})
        tail: deque = deque(maxlen=300)
        proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            print(line, end='', flush=True)
        code = proc.wait()
        if check and code != 0:
            names = [a for a in args[1:] if not a.startswith('-') and a != str(CONSTRAINTS)
                     and '://' not in a]
            raise SystemExit(explain_pip_failure(''.join(tail), ' '.join(names) or 'packages'))
        return code


def has_nvidia_gpu() -> bool:
    if os.environ.get('FORCE_CUDA') == '1':
        return True
    smi = shutil.which('nvidia-smi')
    if not smi:
        return False
    return subprocess.run([smi, '-L'], capture_output=True).returncode == 0


def ensure_build_tools(env: Env, state: dict) -> bool:
    need = []
    st = state.get('setuptools')
    if st is None or not state.get('pkg_resources') or int(st.split('.')[0]) >= 82 \
            or int(st.split('.')[0]) < 77:
        need.append('setuptools')
    for name, key in [('wheel', 'wheel'), ('ninja', 'ninja'), ('cython', 'Cython'),
                      ('numpy', 'numpy')]:
        if state.get(key) is None:
            need.append(name)
    if not need:
        return False
    env.pip('install', '-c', str(CONSTRAINTS), *need)
    return True


def ensure_torch(env: Env, state: dict, pins: dict) -> bool:
    if state.get('torch'):
        return False
    ver = pins['torch']
    if has_nvidia_gpu():
        log(f'installing torch=={ver} (CUDA build: an NVIDIA GPU is present)')
        env.pip('install', '-c', str(CONSTRAINTS), f'torch=={ver}')
        return True
    log(f'installing the CPU build of torch {ver} (no NVIDIA GPU found)')
    # A local wheel store or an index that already carries the +cpu build answers first;
    # otherwise PyTorch's CPU index, never PyPI's default CUDA build.
    if env.pip('install', f'torch=={ver}+cpu', check=False) == 0:
        return True
    index = os.environ.get('TORCH_INDEX_URL', CPU_TORCH_INDEX)
    env.pip('install', f'torch=={ver}+cpu', '--index-url', index,
            '--extra-index-url', 'https://pypi.org/simple')
    return True


def ensure_python_deps(env: Env, state: dict, pins: dict) -> bool:
    need = []
    if state.get('mmengine') != pins['mmengine']:
        need.append('mmengine')
    if state.get('mmdet') != pins['mmdet']:
        need.append('mmdet')
    if state.get('opencv-python') != pins['opencv-python']:  # pinned: see constraints.txt
        if state.get('opencv-python'):
            log(f'opencv-python {state["opencv-python"]} -> {pins["opencv-python"]} '
                '(the pinned version, see requirements/constraints.txt)')
        need.append(f'opencv-python=={pins["opencv-python"]}')
    for name, key in [('pycocotools', 'pycocotools'), ('scipy', 'scipy'),
                      ('matplotlib', 'matplotlib'), ('pytest', 'pytest'),
                      ('pytest-xdist', 'pytest-xdist'),
                      ('terminaltables', 'terminaltables'), ('shapely', 'shapely')]:
        if state.get(key) is None:
            need.append(name)
    if state.get('pycocotools') and not state.get('pycocotools_import'):
        need.append('pycocotools')
    if not need:
        return False
    env.pip('install', '-c', str(CONSTRAINTS), *sorted(set(need)))
    return True


def mmcv_ok(state: dict, pins: dict) -> bool:
    if state.get('mmcv') != pins['mmcv'] or not state.get('mmcv_ops'):
        return False
    return True


def ensure_mmcv(env: Env, state: dict, pins: dict) -> bool:
    if mmcv_ok(state, pins):
        return False
    ver = pins['mmcv']
    if state.get('mmcv'):
        log(f'mmcv {state["mmcv"]} is not usable ({state.get("mmcv_error", "version")}); '
            'replacing it')
        env.pip('uninstall', '-y', 'mmcv', 'mmcv-lite', check=False)
    cuda = bool(state.get('torch_cuda')) and (state.get('cuda_available')
                                              or os.environ.get('FORCE_CUDA') == '1')
    flavour = f'cu{state["torch_cuda"].replace(".", "")}' if cuda else 'cpu'
    tag = f'mmcv-{ver}-torch{state["torch"].split("+")[0]}-{flavour}-py{state["python"]}'
    cache = wheel_cache_root() / tag
    wheels = sorted(cache.glob('mmcv-*.whl')) if cache.is_dir() else []
    if not wheels:
        lacking = missing_compiler()
        if lacking:
            raise SystemExit(f'[setup] mmcv {ver} must be built from source here (PyPI has no '
                             f'wheel for this torch) and {lacking} is missing: '
                             f'{COMPILER_HOWTO}; or put a built mmcv wheel in {cache}. Then '
                             'run the command again.')
        build_env = {'MMCV_WITH_OPS': '1'}
        if cuda:
            build_env['FORCE_CUDA'] = '1'
        print('\n' + '=' * 78)
        print(f' Building mmcv {ver} with compiled ops ({"CUDA" if cuda else "CPU"}) from source.')
        print(' This happens once per machine and torch build; it takes 14 to 17 minutes on')
        print(f' 2 CPU cores. The wheel is kept in {cache}')
        print('=' * 78 + '\n', flush=True)
        t0 = time.time()
        cache.mkdir(parents=True, exist_ok=True)
        env.pip('wheel', '--no-deps', '--no-build-isolation', '-w', str(cache),
                f'mmcv=={ver}', env=build_env)
        log(f'mmcv build finished in {(time.time() - t0) / 60:.1f} min')
        wheels = sorted(cache.glob('mmcv-*.whl'))
    env.pip('install', '--no-deps', '--force-reinstall', str(wheels[-1]))
    # mmcv's own run-time requirements (mmengine brings most of them).
    env.pip('install', '-c', str(CONSTRAINTS), 'addict', 'packaging', 'Pillow', 'pyyaml', 'yapf',
            'opencv-python', quiet=True)
    return True


def ensure_mmpose(env: Env, state: dict, pins: dict) -> bool:
    changed = False
    if state.get('json_tricks') is None or state.get('munkres') is None:
        env.pip('install', '-c', str(CONSTRAINTS), 'json_tricks', 'munkres')
        changed = True
    if state.get('xtcocotools') is None or not state.get('xtcocotools_import'):
        # The PyPI wheel is built against numpy 1.x and fails to import under numpy 2.
        env.pip('install', '--force-reinstall', '--no-deps', '--no-binary', 'xtcocotools',
                '--no-build-isolation', '-c', str(CONSTRAINTS), 'xtcocotools')
        changed = True
    if state.get('mmpose') != pins['mmpose']:
        env.pip('install', '--no-deps', '-c', str(CONSTRAINTS), f'mmpose=={pins["mmpose"]}')
        changed = True
    return changed


def ensure_self(env: Env, state: dict) -> bool:
    url = state.get('mmcenternet_url') or ''
    if state.get('mmcenternet') and state.get('mmcenternet_editable') and \
            url.rstrip('/') == ROOT.as_uri():
        return False
    env.pip('install', '--no-deps', '--no-build-isolation', '-e', str(ROOT))
    return True


def ensure_deploy(env: Env, state: dict) -> bool:
    """onnx and onnxruntime (the ``deploy`` extra), versions from the constraints file."""
    need = []
    if state.get('onnx') is None:
        need.append('onnx')
    if state.get('onnxruntime') is None and state.get('onnxruntime-gpu') is None:
        need.append('onnxruntime')
    if not need:
        return False
    env.pip('install', '-c', str(CONSTRAINTS), *need)
    return True


def preflight(state: dict, pins: dict) -> None:
    """Stop before installing anything when a source build is due and cannot succeed."""
    builds = []
    cached = wheel_cache_root().glob(f'mmcv-{pins["mmcv"]}-*/*.whl')
    if not mmcv_ok(state, pins) and not any(cached):
        builds.append(f'mmcv {pins["mmcv"]}')
    if state.get('xtcocotools') is None or not state.get('xtcocotools_import'):
        builds.append('xtcocotools')
    lacking = missing_compiler() if builds else None
    if lacking:
        raise SystemExit(f'[setup] {" and ".join(builds)} must be built from source on this '
                         f'machine and {lacking} is missing: {COMPILER_HOWTO}. Then run the '
                         'command again.')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--venv', default=str(ROOT / '.venv'))
    args = parser.parse_args()
    t0 = time.time()
    pins = read_pins()
    env = Env(Path(args.venv).resolve())
    env.create()
    state = env.probe()
    preflight(state, pins)
    steps = [
        lambda s: ensure_build_tools(env, s),
        lambda s: ensure_torch(env, s, pins),
        lambda s: ensure_python_deps(env, s, pins),
        lambda s: ensure_mmcv(env, s, pins),
        lambda s: ensure_mmpose(env, s, pins),
        lambda s: ensure_self(env, s),
        lambda s: ensure_deploy(env, s),
    ]
    for step in steps:
        if step(state):
            state = env.probe()
    if not mmcv_ok(state, pins):
        raise SystemExit(f'[setup] mmcv with ops is still not importable: {state.get("mmcv_error")}')
    # Final check: the plugin imports and registers into mmdet and mmpose; the compiled CPU
    # kernel of the deformable convolution is built now (about 10 s, once per CPU and torch)
    # rather than at the first inference.
    res = subprocess.run([str(env.python), '-c', 'import mmcenternet; '
                          'from mmcenternet.ops.compiled import load_compiled_ops as load, '
                          'compiled_ops_error as why; ok = load(); '
                          'print("@@", mmcenternet.__version__, "|", "built" if ok else why())'],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f'[setup] `import mmcenternet` failed:\n{res.stderr}')
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith('@@ '))
    version, kernel = (part.strip() for part in line[3:].split('|', 1))
    if kernel != 'built':
        log(f'the compiled deformable-convolution kernel could not be built ({kernel}); '
            'inference uses the tensor implementation (same results, slower)')
    log(f'environment ready in {time.time() - t0:.0f} s: torch {state["torch"]}, '
        f'mmcv {state["mmcv"]} (ops), mmengine {state["mmengine"]}, mmdet {state["mmdet"]}, '
        f'mmpose {state["mmpose"]}, mmcenternet {version}, onnxruntime '
        f'{state.get("onnxruntime") or state.get("onnxruntime-gpu")}, compiled kernel: '
        f'{"ready" if kernel == "built" else "not built"}')


if __name__ == '__main__':
    main()
