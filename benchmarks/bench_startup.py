"""Start-up cost: the first call of each op in a fresh process, beside numba's own floor.

Every figure is one fresh Python process (best of ``--repeat``), timed inside it:

* ``import``: ``import scanwise`` (numpy already imported);
* ``first <op>``: the first call of that op, small input, with the kernel disk cache warm
  (run once before timing) or cold (``--cold``: an empty ``NUMBA_CACHE_DIR`` per process,
  so every kernel the call needs is compiled);
* the floor: ``import numba`` plus the first call of a trivial cached ``@njit`` function
  (numba's import and its CPU target's registries, which any numba kernel pays once per
  process), measured the same way.

``--src DIR`` times another checkout's ``src`` (e.g. a worktree of an older commit) in
the same run, for a before/after table.

    python benchmarks/bench_startup.py [--repeat 3] [--cold] [--src ../old/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CALLS = {
    "cumsum": "scanwise.cumsum(x)",
    "cumsum reset": "scanwise.cumsum(x, reset=r)",
    "logcumsumexp": "scanwise.logcumsumexp(x)",
    "discounted_cumsum": "scanwise.discounted_cumsum(x, 0.9, reverse=True)",
    "ewm_mean": "scanwise.ewm_mean(x, span=10)",
    "ewm_var": "scanwise.ewm_var(x, span=10)",
    "ewm_corr": "scanwise.ewm_corr(x, x[::-1].copy(), span=10)",
    "gae": "scanwise.gae(x, x, x, terminated=r, discount=0.99, lam=0.95)",
}

SCRIPT = """
import time
import numpy as np
x = np.linspace(0.0, 1.0, 1000); r = np.zeros(1000, bool); r[500] = True
t0 = time.perf_counter()
import scanwise
t1 = time.perf_counter()
{call}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

FLOOR = """
import time
import numpy as np
t0 = time.perf_counter()
import numba
@numba.njit(cache=True)
def f(a):
    return a.sum()
f(np.ones(3))
print(0.0, time.perf_counter() - t0)
"""


def _run(code: str, src: str | None, cache: str | None, where: str | None = None
         ) -> tuple[float, float]:
    """Run ``code`` as a script in a fresh process; ``where``: the folder of the script
    (the same one across runs lets numba find the floor's cached function again)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    if cache:
        env["NUMBA_CACHE_DIR"] = cache
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(where or tmp, "startup_floor.py")  # numba caches files only
        with open(script, "w") as fh:
            fh.write(code)
        out = subprocess.run([sys.executable, script], env=env, capture_output=True,
                             text=True, check=True)
    a, b = out.stdout.split()
    return float(a), float(b)


def measure(src: str | None, repeat: int, cold: bool) -> dict[str, float]:
    times: dict[str, float] = {}
    for name, call in CALLS.items():
        code = SCRIPT.format(call=call)
        best_import = best = float("inf")
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cache:
                if not cold:
                    _run(code, src, None)  # fill the default cache
                imp, first = _run(code, src, cache if cold else None)
            best_import, best = min(best_import, imp), min(best, first)
        times["import"] = min(times.get("import", float("inf")), best_import)
        times[f"first {name}"] = best
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--src", help="another checkout's src/ to time beside this one")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    columns = {"this tree": measure(here, args.repeat, args.cold)}
    if args.src:
        columns["--src"] = measure(args.src, args.repeat, args.cold)
    with tempfile.TemporaryDirectory() as cache:
        floor = float("inf")
        for _ in range(args.repeat):
            if args.cold:
                with tempfile.TemporaryDirectory() as empty:
                    floor = min(floor, _run(FLOOR, None, empty, cache)[1])
                continue
            _run(FLOOR, None, cache, cache)  # the trivial function cached, as kernels are
            floor = min(floor, _run(FLOOR, None, cache, cache)[1])

    cache_word = "cold kernel cache" if args.cold else "warm kernel cache"
    print(f"start-up, {cache_word}, best of {args.repeat} fresh processes (seconds)")
    print(f"python {sys.version.split()[0]}, PYTHONDONTWRITEBYTECODE="
          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    names = list(next(iter(columns.values())))
    print(f"{'':26}" + "".join(f"{c:>12}" for c in columns) + f"{'/ floor':>10}")
    for name in names:
        row = [columns[c][name] for c in columns]
        ratio = "" if name == "import" else f"{row[0] / floor:9.1f}x"
        print(f"{name:26}" + "".join(f"{v:12.3f}" for v in row) + f"{ratio:>10}")
    print(f"{'floor: numba + 1 cached fn':26}{floor:12.3f}")
    print(textwrap.fill(
        "The floor is what any numba-compiled library pays in a fresh process before its "
        "first kernel runs; a first call above it is scanwise's own cost.", 88))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cache": cache_word, "columns": columns, "floor": floor}, fh, indent=1)


if __name__ == "__main__":
    main()
