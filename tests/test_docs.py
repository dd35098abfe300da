"""Every fenced ``python`` block of the docs (``docs/**/*.md``, ``CONTRIBUTING.md``) and of
``README.md`` runs, so an example that stops working fails CI.

Docs pages are tutorials: a page's blocks run in order in one namespace, as a reader
would paste them. README blocks are fragments that use names defined only in prose
(``rewards``, ``dones``, ``big.zarr``); each runs in a fresh namespace seeded by the
small inputs below, and the one heavy size is shrunk (``SHRINK``). Blocks assert what
their text claims. The docstrings' ``>>>`` examples run as doctests (pyproject's
``--doctest-modules``); the API reference is checked by ``mkdocs build --strict``.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.S | re.M)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(first line number, dedented source) of every ```python block in ``path``."""
    text = path.read_text()
    out = []
    for m in FENCE.finditer(text):
        if m.group("info").strip().split(" ")[0] in ("python", "py"):
            line = text.count("\n", 0, m.start("body")) + 1
            out.append((line, textwrap.dedent(m.group("body"))))
    return out


def run_block(path: Path, line: int, source: str, namespace: dict) -> None:
    # pad with newlines so a traceback points at the Markdown file's own line numbers
    code = compile("\n" * (line - 1) + source, str(path.relative_to(ROOT)), "exec")
    exec(code, namespace)


DOC_PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "CONTRIBUTING.md"]
DOC_PAGES = [p for p in DOC_PAGES if python_blocks(p)]


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_page_runs(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # CONTRIBUTING's Recorder example
    monkeypatch.delenv("SCANWISE_BENCH_RESULTS", raising=False)
    import numba

    threads = numba.get_num_threads()
    namespace: dict = {"__name__": "docs", "seconds": 1.0, "peer_seconds": 2.0,
                       "copy_seconds": 0.5, "n_elements": 1000}
    try:
        for line, source in python_blocks(page):
            run_block(page, line, source, namespace)
    finally:
        numba.set_num_threads(threads)


# README: the inputs its fragments name without defining them, by a string of the block
README_PRELUDE = [
    ("discounted_cumsum(rewards", """
import numpy as np
rng = np.random.default_rng(0)
rewards = rng.standard_normal(200)
dones = rng.random(200) < 0.05
a, b = rng.uniform(0.5, 1.0, (2, 1000, 100))
h0 = np.zeros(100)
logp = np.log(rng.random((10, 50)))
"""),
    ("initial=a[-1]", """
import numpy as np
import scanwise
x = np.arange(8.0)
r = np.array([0, 0, 1, 0, 0, 1, 0, 0], bool)
"""),
    ("scanwise.gae(rewards", """
import numpy as np
rng = np.random.default_rng(0)
rewards, values, next_values = rng.standard_normal((3, 64, 4))
terminated = rng.random((64, 4)) < 0.05
done = terminated | (rng.random((64, 4)) < 0.02)
last_values = rng.standard_normal(4)
"""),
    ("ewm_mean(x, axis=0, span=20)", """
import numpy as np
import pandas as pd
rng = np.random.default_rng(0)
x, y = rng.standard_normal((2, 100, 3))
df = pd.DataFrame(x, index=pd.date_range("2024", periods=100, freq="min"))
new_segment = np.zeros((100, 1), bool)
new_segment[50] = True
chunk1, chunk2 = x[:60], x[60:]
"""),
    ("da.from_zarr", """
import numpy as np
import pandas as pd
import xarray as xr
import dask.array
rng = np.random.default_rng(0)
_small = dask.array.from_array(rng.standard_normal((200, 4)), chunks=(50, 4))
new_day = np.zeros((200, 1), bool)
new_day[::50] = True
r, v, nv = (dask.array.from_array(a, chunks=(50, 4)) for a in rng.standard_normal((3, 200, 4)))
term = dask.array.from_array(rng.random((200, 4)) < 0.05, chunks=(50, 4))
ds = xr.Dataset({"u": (("time", "x"), rng.standard_normal((200, 4)))},
                coords={"time": pd.date_range("2024", periods=200, freq="min")})
"""),
]
# sizes the README shows for effect, shrunk for CI: (as written, as run)
SHRINK = [("np.random.rand(100_000, 1000)", "np.random.rand(1_000, 100)")]


README_BLOCKS = python_blocks(ROOT / "README.md")


@pytest.mark.parametrize("line,source", README_BLOCKS,
                         ids=[f"README.md:{n}" for n, _ in README_BLOCKS])
def test_readme_block_runs(line, source, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    import scanwise

    namespace: dict = {"__name__": "readme", "scanwise": scanwise}
    for key, prelude in README_PRELUDE:
        if key in source:
            exec(prelude, namespace)
    if "_small" in namespace:  # no zarr store on disk: from_zarr gives a small array
        monkeypatch.setattr(sys.modules["dask.array"], "from_zarr",
                            lambda *args, **kwargs: namespace["_small"])
    for written, small in SHRINK:
        source = source.replace(written, small)
    run_block(ROOT / "README.md", line, source, namespace)

