# Copyright (c) mmcenternet contributors. All rights reserved.
"""The timing helpers of every benchmark tool (``tools/analysis_tools/benchmark_*.py``).

Figures are compared only within one run: :class:`Rounds` times named functions interleaved
round by round on one device and reports medians; :func:`machine_line` names the machine (the
CPU's model and the instruction-set extensions that decide convolution speed, or the GPU) so that
every printed table says where it was measured.
"""
import os
import platform
import re
import statistics
import time
from typing import Callable, Dict, List, Sequence, Union

import torch

__all__ = [
    'sync', 'Rounds', 'timed', 'fmt_ms', 'cpu_name', 'cpu_flags', 'machine_line', 'reset_peak_rss',
    'peak_rss', 'TestPathStages'
]

#: CPU extensions reported by :func:`machine_line` (``/proc/cpuinfo`` names).
SPEED_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_bf16',
               'amx_int8', 'amx_tile')


def sync(device: Union[str, torch.device]) -> None:
    """Wait for queued GPU work, so that a timer read afterwards includes it."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


class Rounds:
    """Timings of named functions run interleaved (one call each per round); medians reported.

    Args:
        device: Where the functions run (``cuda`` devices are synchronised around each call).
    """

    def __init__(self, device: Union[str, torch.device] = 'cpu') -> None:
        self.device = device
        self.times: Dict[str, List[float]] = {}

    def time(self, name: str, fn: Callable[[], object]) -> object:
        """Run ``fn`` once, add its wall time to ``name``, return its result."""
        sync(self.device)
        start = time.perf_counter()
        out = fn()
        sync(self.device)
        self.add(name, time.perf_counter() - start)
        return out

    def add(self, name: str, seconds: float) -> None:
        """Record a time measured elsewhere (e.g. the sum of a pipeline's stages)."""
        self.times.setdefault(name, []).append(seconds)

    def median(self, name: str) -> float:
        values = self.times.get(name)
        return statistics.median(values) if values else float('nan')

    def best(self, name: str) -> float:
        values = self.times.get(name)
        return min(values) if values else float('nan')

    def time_stages(self, key: str, path: 'TestPathStages', img_path: str) -> None:
        """One image through ``path``: ``<key>|pre``, ``|network``, ``|decode``, ``|post`` and
        their sum ``|total``, on the path's device."""
        self.device = path.device
        start = time.perf_counter()
        data = self.time(f'{key}|pre', lambda: path.pre(img_path))
        outs = self.time(f'{key}|network', lambda: path.network(data))
        dec = self.time(f'{key}|decode', lambda: path.decode(outs))
        self.time(f'{key}|post', lambda: path.post(data, dec))
        self.add(f'{key}|total', time.perf_counter() - start)


def timed(fn: Callable[[], None], repeats: int, warmup: int,
          device: Union[str, torch.device] = 'cpu') -> List[float]:
    """``warmup`` untimed calls of ``fn``, then the wall time of each of ``repeats`` calls."""
    rounds = Rounds(device)
    for _ in range(warmup):
        fn()
    for _ in range(repeats):
        rounds.time('fn', fn)
    return rounds.times.get('fn', [])


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds with one decimal (``n/a`` for NaN)."""
    return 'n/a' if seconds != seconds else f'{1000 * seconds:.1f}'


def _cpuinfo() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            return f.read()
    except OSError:
        return ''


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    found = re.search(r'^model name\s*:\s*(.+)$', _cpuinfo(), re.M)
    return found.group(1).strip() if found else (platform.processor() or platform.machine())


def cpu_flags(wanted: Sequence[str] = SPEED_FLAGS) -> List[str]:
    """Which of ``wanted`` the CPU advertises (``/proc/cpuinfo`` flags), in that order."""
    found = re.search(r'^flags\s*:\s*(.+)$', _cpuinfo(), re.M)
    have = set(found.group(1).split()) if found else set()
    return [f for f in wanted if f in have]


def machine_line(device: Union[str, torch.device] = 'cpu') -> str:
    """One line naming the device (CPU model and speed-relevant flags, or GPU), the cores and
    threads, and the versions of torch, mmcv and Python."""
    device = str(device)
    if device.startswith('cuda'):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        flags = cpu_flags()
        name = f'{cpu_name()} [{" ".join(flags) if flags else "no AVX2/AVX-512 flags"}]'
    try:
        import mmcv
        mmcv_version = mmcv.__version__
    except ImportError:
        mmcv_version = 'absent'
    return (f'{device}: {name}; {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; '
            f'torch {torch.__version__}, mmcv {mmcv_version}, Python {platform.python_version()}')


def _status_kb(key: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(key + r':\s+(\d+)', f.read()).group(1))


def reset_peak_rss() -> int:
    """Reset the process's peak resident memory to the current one (Linux); return it (KB).

    Without the reset the peak would be that of the imports, above what the measured code adds.
    """
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    return _status_kb('VmRSS')


def peak_rss() -> int:
    """Peak resident memory (KB) since the last :func:`reset_peak_rss`."""
    return _status_kb('VmHWM')


class TestPathStages:
    """A detector's test path from an image file, in the original's timed stages.

    ``pre`` (reading, the config's test pipeline, the data preprocessor, copy to ``device``),
    ``network`` (the raw maps), ``decode`` (the head's tensor-only ``decode_outputs``) and
    ``post`` (the head's ``results_from_decoded``, results on the CPU): what ``model.test_step``
    does, split so that the benchmarks time each part.

    Args:
        cfg: The model's config (its ``test_pipeline`` is used).
        model: A CenterNet detector in eval mode.
        device: Where the network runs.
    """

    def __init__(self, cfg, model, device: Union[str, torch.device] = 'cpu') -> None:
        from mmengine.dataset import Compose
        self.pipeline = Compose(cfg.test_pipeline)
        self.model = model
        self.device = str(device)

    def sync(self) -> None:
        sync(self.device)

    def pre(self, img_path: str) -> dict:
        from mmengine.dataset import pseudo_collate
        data = self.pipeline(dict(img_path=img_path, img_id=0))
        data = self.model.data_preprocessor(pseudo_collate([data]), False)
        data['inputs'] = data['inputs'].to(self.device)
        return data

    def network(self, data: dict):
        return self.model(data['inputs'], mode='tensor')

    def decode(self, outs):
        return self.model.bbox_head.decode_outputs(outs)

    def post(self, data: dict, decoded) -> list:
        metas = [s.metainfo for s in data['data_samples']]
        results = self.model.bbox_head.results_from_decoded(decoded, metas, rescale=True)
        return [r.cpu() for r in results]
