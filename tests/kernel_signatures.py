"""The kernel signatures the test suite compiles, for ``conftest._precompiled_kernels``.

Regenerate the list after kernels or tests change which signatures run::

    rm -f /tmp/compile.log
    SCANWISE_COMPILE_LOG=/tmp/compile.log SCANWISE_PRECOMPILE=0 .venv/bin/python -m pytest -n 2
    .venv/bin/python tests/kernel_signatures.py /tmp/compile.log

(the log must come from a run with an empty cache, e.g. after ``make clean``, or it
lists cache loads, which cost nothing, with their load times as costs).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

LIST = Path(__file__).with_name("kernel_signatures.txt")


def _entries() -> list[tuple[float, str, str]]:
    if not LIST.exists():
        return []
    rows = []
    for line in LIST.read_text().splitlines():
        if line and not line.startswith("#"):
            cost, name, sig = line.split("\t")
            rows.append((float(cost), name, sig))
    return rows


def precompile(worker: int, count: int) -> None:
    """Compile worker ``worker``'s share (of ``count``) of the listed signatures: the
    list is dealt out by cost, most expensive first, so the shares take about as long."""
    import scanwise._kernels as kernels
    from scanwise._kernels import jit

    for mod in pkgutil.iter_modules(kernels.__path__):
        importlib.import_module(f"scanwise._kernels.{mod.name}")
    rows = sorted(_entries(), reverse=True)
    mine = [(name, sig) for k, (_, name, sig) in enumerate(rows) if k % count == worker]
    jit.precompile(mine)


def update(log: str) -> None:
    """Rewrite the list from a ``SCANWISE_COMPILE_LOG`` file: each distinct (kernel,
    signature) with its longest compile time."""
    cost: dict[tuple[str, str], float] = {}
    for line in Path(log).read_text().splitlines():
        _pid, name, seconds, _test, sig = line.split("\t")
        cost[(name, sig)] = max(cost.get((name, sig), 0.0), float(seconds))
    lines = ["# cost (s)\tkernel\tsignature (see kernel_signatures.py)"]
    lines += [f"{c:.2f}\t{n}\t{s}" for (n, s), c in sorted(cost.items(), key=lambda kv: -kv[1])]
    LIST.write_text("\n".join(lines) + "\n")
    print(f"{len(cost)} signatures, {sum(cost.values()):.0f} s of compilation")


if __name__ == "__main__":
    update(sys.argv[1])
