# mmcenternet: the whole set-up is `make demo` and `make test`.
# Both create or reuse $(VENV) and install only what is missing (tools/misc/setup_env.py).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# one test worker per CPU core (pytest-xdist), a file's tests on one worker (they share fixtures);
# `make test PYTEST_JOBS=` runs them in one process
PYTEST_JOBS ?= -n auto --dist loadfile

.PHONY: env demo demo-pose test clean-demo help

help:
	@echo "make demo       - set up $(VENV) if needed, then generate data, train, test and draw the demo"
	@echo "make demo-pose  - the same for multi-person pose (stick figures, keypoint AP, skeletons)"
	@echo "make test       - set up $(VENV) if needed, then run the test suite"

env:
	@$(PYTHON) tools/misc/setup_env.py --venv $(VENV)

demo: env
	@$(PY) tools/misc/demo.py

demo-pose: env
	@$(PY) tools/misc/demo.py --task pose

test: env
	@$(PY) -m pytest $(PYTEST_JOBS) $(PYTEST_ARGS)

clean-demo:
	rm -rf work_dirs/demo data/demo work_dirs/demo_pose data/demo_pose
