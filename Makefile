# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is optional; its CPU build (2.13.0) is what a plain pip install picks from local disk here
STAMP_DEMO := $(VENV)/.demo-installed
STAMP_DEV := $(VENV)/.dev-installed

.PHONY: demo demo-quick test docs docs-serve package-check bench render clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# --no-compile skips byte-compiling every installed module (torch has thousands); the
# few packages every scanwise process imports are compiled here instead, once: where
# PYTHONDONTWRITEBYTECODE is set (as on these machines) Python would otherwise compile
# numba, numpy and scipy from source in every process (about 2 s of each first call)
HOT := numba llvmlite numpy scipy pandas dask distributed xarray matplotlib rich
define compile_hot
	-$(PY) -c "import compileall as c, os, sysconfig as s; site = s.get_paths()['purelib']; \
		[c.compile_dir(os.path.join(site, p), quiet=2, workers=0) for p in '$(HOT)'.split()]"
endef

$(STAMP_DEMO): pyproject.toml | $(PY)
	$(PY) -m pip install -q --no-compile -e ".[demo]"
	$(compile_hot)
	touch $@

# torch 2.13.0 is the CPU build on this machine's disk; where it cannot be installed the
# torch/TorchRL tests are skipped, not failed.  --no-compile: pip would byte-compile every
# module of every package (torch's thousands) at install; Python compiles the ones a run
# imports, once.  The install took 119 s with it, 52 s without (fresh .venv, 2026-11-23).
$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install -q --no-compile -e ".[dev,demo,docs]"
	$(PY) -m pip install -q --no-compile torch==2.13.0 torchrl==0.14.1 triton==3.9.0 \
		|| echo "torch/torchrl/triton not installed: their tests will be skipped"
	$(compile_hot)
	touch $@

demo: $(STAMP_DEMO)
	$(VENV)/bin/scanwise demo

demo-quick: $(STAMP_DEMO)
	$(VENV)/bin/scanwise demo --quick

# the docs build (--strict: a broken reference, link or nav entry fails) runs beside the
# tests; tests/test_docs.py runs every code block of docs/ and README.md, and
# tests/test_package.py builds the sdist and wheel and smoke-tests them in a fresh venv
test: $(STAMP_DEV)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(MAKE) docs
	$(PY) -m pytest -n 2 --dist loadgroup -q --durations=15

docs: $(STAMP_DEV)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site

docs-serve: $(STAMP_DEV)
	$(VENV)/bin/mkdocs serve

package-check: $(STAMP_DEV)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_package.py

# every figure goes into one results file (benchmarks/_results.py); `make render` turns
# the newest one into README.md's table and docs/performance.md
RESULTS ?= benchmarks/results/$(shell date -u +%Y-%m-%d)-$(shell $(PY) -c "import sys; \
	sys.path.insert(0, 'benchmarks'); import _results; print(_results.machine_slug())" \
	2>/dev/null || echo unknown).json
bench: $(STAMP_DEV)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) -m pip install -q torch==2.13.0 torchrl==0.14.1 || true
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_core.py
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_rl.py
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_ewm.py
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_dask.py
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_layouts.py
	SCANWISE_BENCH_RESULTS=$(RESULTS) $(PY) benchmarks/bench_torch.py --cpu-only
	@echo "results in $(RESULTS); make render updates README.md and docs/performance.md"

render: $(STAMP_DEV)
	$(PY) benchmarks/render.py

clean:
	rm -rf $(VENV) build site dist *.egg-info src/*.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
