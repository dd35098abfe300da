"""The kernels' disk cache follows edits to the helper modules they inline.

numba alone keys a cached kernel on its own source file: after an edit to a helper in
another file the old code kept loading from the cache (``scanwise._kernels.jit``).
This runs a copy of the package in subprocesses that share one cache directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scanwise

pytestmark = pytest.mark.xdist_group("compile")

_RUN = """
import json, numpy as np, scanwise
from scanwise._kernels.scans.linear import linear_scan_rows
out = scanwise.cumsum(np.arange(1.0, 9.0))
stats = linear_scan_rows._dispatcher.stats
print(json.dumps({"out": out.tolist(), "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values())}))
"""


def _run(pkg: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(pkg), "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_helper_edit_recompiles_the_kernels_that_inline_it(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(
        Path(scanwise.__file__).parent, pkg / "scanwise",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    cache = tmp_path / "cache"
    x = np.arange(1.0, 9.0)

    first = _run(pkg, cache)
    assert first["out"] == np.cumsum(x).tolist()
    assert first["misses"] >= 1

    again = _run(pkg, cache)  # unchanged sources: loaded from the cache
    assert again["out"] == np.cumsum(x).tolist()
    assert again["hits"] >= 1 and again["misses"] == 0

    # an edit to access.py only (not linear.py): a scalar coefficient now reads as 0,
    # so h[t] = 0 * h[t-1] + x[t] = x[t]; a stale cache would still give the cumsum
    access = pkg / "scanwise" / "_kernels" / "access.py"
    text = access.read_text()
    edited = text.replace("    def impl_scalar(x, o, t, i):\n        return x\n",
                          "    def impl_scalar(x, o, t, i):\n        return x * 0.0\n")
    assert edited != text
    access.write_text(edited)

    after = _run(pkg, cache)
    assert after["out"] == x.tolist()
    assert after["misses"] >= 1
