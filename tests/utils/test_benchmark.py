# Copyright (c) mmcenternet contributors. All rights reserved.
"""The benchmark tools' shared timing helpers."""
import time

from mmcenternet.utils.benchmark import (Rounds, cpu_flags, cpu_name, fmt_ms, machine_line,
                                         timed)


def test_rounds_record_medians_and_bests():
    r = Rounds('cpu')
    assert r.time('sleep', lambda: time.sleep(0.002) or 7) == 7
    r.add('sleep', 10.0)
    r.add('sleep', 0.001)
    assert r.median('sleep') >= 0.002 and r.best('sleep') == 0.001
    assert r.median('absent') != r.median('absent')  # NaN
    assert fmt_ms(0.0123) == '12.3' and fmt_ms(float('nan')) == 'n/a'


def test_timed_runs_warmup_then_repeats():
    calls = []
    out = timed(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(out) == 3 and len(calls) == 5


def test_machine_line_names_the_cpu_and_its_flags():
    line = machine_line('cpu')
    assert cpu_name() in line and 'torch' in line
    assert set(cpu_flags()) <= {'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
                                'amx_bf16', 'amx_int8', 'amx_tile'}
    assert all(flag in line for flag in cpu_flags())
