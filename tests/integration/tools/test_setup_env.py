# Copyright (c) mmcenternet contributors. All rights reserved.
"""``tools/misc/setup_env.py`` stops with one line naming what is missing and how to get it."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


@pytest.fixture(scope='module')
def setup_env():
    spec = importlib.util.spec_from_file_location(
        'setup_env_under_test', osp.join(ROOT, 'tools', 'misc', 'setup_env.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_network_is_named(setup_env):
    out = ('WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary '
           'failure in name resolution\nERROR: Could not find a version that satisfies the '
           'requirement mmdet==3.3.0\nERROR: No matching distribution found for mmdet==3.3.0\n')
    msg = setup_env.explain_pip_failure(out, 'mmdet')
    assert '\n' not in msg
    assert 'could not install mmdet' in msg and 'network' in msg and 'PIP_FIND_LINKS' in msg


def test_missing_compiler_in_a_build_is_named(setup_env):
    out = "building 'xtcocotools._mask' extension\nerror: command 'gcc' failed: No such file\n"
    msg = setup_env.explain_pip_failure(out, 'xtcocotools')
    assert '\n' not in msg and 'compiler' in msg and 'build-essential' in msg


def test_other_failures_quote_pips_last_line(setup_env):
    msg = setup_env.explain_pip_failure('a\nERROR: something odd happened\n', 'x')
    assert 'something odd happened' in msg


def test_missing_compiler_and_headers_are_detected(setup_env, tmp_path):
    assert 'C++ compiler' in setup_env.missing_compiler(which=lambda name: None)
    assert 'Python.h' in setup_env.missing_compiler(which=lambda name: '/usr/bin/' + name,
                                                    include_dir=str(tmp_path))
    (tmp_path / 'Python.h').write_text('')
    assert setup_env.missing_compiler(which=lambda name: '/usr/bin/' + name,
                                      include_dir=str(tmp_path)) is None


def test_preflight_stops_before_installing_when_a_build_cannot_succeed(
        setup_env, monkeypatch, tmp_path):
    monkeypatch.setenv('MMCENTERNET_WHEEL_CACHE', str(tmp_path))  # no cached mmcv wheel
    monkeypatch.setattr(setup_env, 'missing_compiler', lambda: 'a C++ compiler (g++ or clang++)')
    pins = dict(mmcv='2.1.0')
    with pytest.raises(SystemExit) as info:
        setup_env.preflight(dict(mmcv=None), pins)
    msg = str(info.value)
    assert '\n' not in msg and 'mmcv 2.1.0' in msg and 'C++ compiler' in msg
    # everything present (or a cached wheel): no compiler needed, no stop
    monkeypatch.setattr(setup_env, 'mmcv_ok', lambda state, pins: True)
    setup_env.preflight(dict(xtcocotools='1.14', xtcocotools_import=True), pins)
