# Copyright (c) mmcenternet contributors. All rights reserved.
"""Packaging for mmcenternet.

mmcv (with compiled ops) and mmpose are deliberately not in ``install_requires``: mmcv has no wheel
for current torch on PyPI and must be built against the installed torch, and mmpose's own
requirements include an unbuildable, unused package. ``make test`` / ``make demo`` (see
``tools/misc/setup_env.py``) install both; ``pip install mmcenternet[mim]`` lists them for users who
manage their environment themselves. ``pip install mmcenternet[deploy]`` adds onnx and onnxruntime
for the ONNX export and the onnxruntime backend (also installed by ``make test``).
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmcenternet', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def read_readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='mmcenternet',
    version=read_version(),
    description='CenterNet ("Objects as Points") for MMDetection and MMPose, faithful to the '
    'original implementation',
    long_description=read_readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    include_package_data=True,
    # the compiled kernel's source, built on first use (mmcenternet/ops/compiled.py)
    package_data={'mmcenternet.ops': ['csrc/*.cpp']},
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'mim': read_requirements('mminstall.txt'),
        'deploy': read_requirements('deploy.txt'),
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
