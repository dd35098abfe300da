# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is optional; its CPU build (2.13.0) is what a plain pip install picks from local disk here
STAMP_DEMO := $(VENV)/.demo-installed
STAMP_DEV := $(VENV)/.dev-installed

.PHONY: demo demo-quick test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(PY)
	$(PY) -m pip install -q --no-compile -e ".[demo]"
	touch $@

# torch 2.13.0 is the CPU build on this machine's disk; where it cannot be installed the
# torch/TorchRL tests are skipped, not failed.  --no-compile: pip would byte-compile every
# module of every package (torch's thousands) at install; Python compiles the ones a run
# imports, once.  The install took 119 s with it, 52 s without (fresh .venv, 2026-11-23).
$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install -q --no-compile -e ".[dev,demo]"
	$(PY) -m pip install -q --no-compile torch==2.13.0 torchrl==0.14.1 \
		|| echo "torch/torchrl not installed: their tests will be skipped"
	touch $@

demo: $(STAMP_DEMO)
	$(VENV)/bin/scanwise demo

demo-quick: $(STAMP_DEMO)
	$(VENV)/bin/scanwise demo --quick

test: $(STAMP_DEV)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(PY) -m pytest -n 2 --dist loadgroup -q --durations=15

bench: $(STAMP_DEV)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) -m pip install -q torch==2.13.0 torchrl==0.14.1 || true
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_rl.py
	$(PY) benchmarks/bench_ewm.py
	$(PY) benchmarks/bench_dask.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
