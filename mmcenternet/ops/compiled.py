# Copyright (c) mmcenternet contributors. All rights reserved.
"""The compiled CPU kernel of the fast deformable convolution (built on first use, cached).

``csrc/deform_gather_cpu.cpp`` fuses the sampling table and the gather of
:func:`mmcenternet.ops.modulated_deform_conv2d_fast` for CPU inference: each sampling point's
bilinear corners are computed where they are consumed, the rows of the tap projection are summed
in float32 registers (bfloat16 rows widened on the fly), and the bias (and, on request, the
mask's sigmoid and the following ReLU) are applied in the same pass.
The tensor implementation needs about 35 element-wise passes for the table plus the gather; the
kernel is 2.5 to 4 times faster for these two steps (docs/speed.md). Training (gradients) and
other devices keep the tensor implementation.

The kernel is compiled with torch's C++ extension loader the first time it is needed (about 10 s
with the C++ compiler and ninja that building mmcv already requires) for the CPU it runs on
(``-march=native``), and cached under ``~/.cache/mmcenternet/torch_extensions/<cpu>`` (or
``$MMCENTERNET_EXTENSIONS_DIR``). Where it cannot be built, one log line says why and the tensor
implementation runs, with the same results up to float rounding.
``MMCENTERNET_COMPILED_OPS=0`` turns the kernel off.
"""
import hashlib
import os
import os.path as osp
import platform
import shutil
import sys
import threading
from typing import Optional

import torch
from mmengine.logging import print_log
from torch import Tensor

__all__ = ['compiled_ops_enabled', 'load_compiled_ops', 'deform_gather', 'compiled_ops_error']

_SOURCE = osp.join(osp.dirname(osp.abspath(__file__)), 'csrc', 'deform_gather_cpu.cpp')
_LOCK = threading.Lock()
_STATE = {'loaded': None, 'error': None}  # loaded: None (not tried), True, False


def compiled_ops_enabled() -> bool:
    """Whether the compiled kernel may be used (``MMCENTERNET_COMPILED_OPS`` is not ``0``)."""
    return os.environ.get('MMCENTERNET_COMPILED_OPS', '1').strip().lower() not in (
        '0', 'false', 'no', 'off')


def _cpu_key() -> str:
    """A short key of this CPU's model and instruction sets (the build is ``-march=native``)."""
    text = platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith(('model name', 'flags')):
                    text += line
                if line.startswith('flags'):
                    break
    except OSError:
        text += platform.processor()
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _build_dir() -> str:
    root = os.environ.get('MMCENTERNET_EXTENSIONS_DIR') or osp.join(
        osp.expanduser('~'), '.cache', 'mmcenternet', 'torch_extensions')
    tag = f'torch{torch.__version__.split("+")[0]}-py{sys.version_info[0]}{sys.version_info[1]}'
    path = osp.join(root, f'{tag}-{_cpu_key()}')
    os.makedirs(path, exist_ok=True)
    return path


def _build() -> None:
    from torch.utils import cpp_extension
    env_path = os.environ.get('PATH', '')
    venv_bin = osp.dirname(sys.executable)
    if shutil.which('ninja') is None and osp.exists(osp.join(venv_bin, 'ninja')):
        # ninja installed into the virtual environment, whose bin/ need not be on PATH
        os.environ['PATH'] = venv_bin + os.pathsep + env_path
    try:
        flags = ['-O3', '-march=native', '-fopenmp']
        if platform.machine().lower() in ('x86_64', 'amd64'):
            # full-width vectors for the float32 sums (some x86 targets default to 256 bits)
            flags.append('-mprefer-vector-width=512')
        cpp_extension.load(name='mmcenternet_deform_gather', sources=[_SOURCE],
                           extra_cflags=flags, extra_ldflags=['-fopenmp'],
                           build_directory=_build_dir(), is_python_module=False, verbose=False)
    finally:
        os.environ['PATH'] = env_path


def load_compiled_ops() -> bool:
    """Build (once) and load the compiled kernel; ``False`` (with one log line) if it cannot be.

    Returns:
        Whether ``torch.ops.mmcenternet.deform_gather`` is available.
    """
    if not compiled_ops_enabled():
        return False
    if _STATE['loaded'] is None:
        with _LOCK:
            if _STATE['loaded'] is None:
                try:
                    if not hasattr(torch.ops.mmcenternet, 'deform_gather'):
                        _build()
                    _STATE['loaded'] = True
                except Exception as exc:  # noqa: BLE001  (no compiler, no ninja, ...)
                    message = str(exc).strip().splitlines()
                    _STATE['error'] = f'{type(exc).__name__}: {message[-1] if message else ""}'
                    _STATE['loaded'] = False
                    print_log('mmcenternet: the compiled deformable-sampling kernel could not be '
                              f'built ({_STATE["error"]}); the tensor implementation runs '
                              'instead (same results, slower)', logger='current')
    return bool(_STATE['loaded'])


def compiled_ops_error() -> Optional[str]:
    """Why the kernel could not be built, or ``None``."""
    return _STATE['error']


def deform_gather(proj: Tensor, offset: Tensor, mask: Tensor, bias: Optional[Tensor],
                  in_size: tuple, kernel_size: tuple, stride: tuple, padding: tuple,
                  dilation: tuple, deform_groups: int, relu: bool = False,
                  mask_logits: bool = False) -> Tensor:
    """Sampling and gather of a modulated deformable convolution in one pass (CPU, no autograd).

    Args:
        proj: (N * H * W * T, O) tap projection (:func:`mmcenternet.ops.tap_projection`),
            contiguous, float32 or bfloat16.
        offset: (N, 2 * T, Ho, Wo) offsets, mask: (N, T, Ho, Wo) modulation; any strides, cast
            to float32 (the sampling positions are computed in float32).
        bias: (O, ) or ``None``.
        in_size, kernel_size, stride, padding, dilation: ``(h, w)`` pairs.
        deform_groups: Deformable groups (``T = deform_groups * kh * kw``).
        relu: Apply a ReLU after the bias.
        mask_logits: ``mask`` holds logits: the kernel applies the sigmoid.

    Returns:
        (N * Ho * Wo, O) in ``proj``'s dtype, the bias added (and the ReLU applied).
    """
    return torch.ops.mmcenternet.deform_gather(
        proj, offset.float(), mask.float(), bias, in_size[0], in_size[1], kernel_size[0],
        kernel_size[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1],
        deform_groups, relu, mask_logits)
