"""``scanwise demo``: the problems that started the project, solved side by side.

1. ``np.cumsum`` along the long axis of a [100000, 1000] float64 matrix vs scanwise vs a
   plain copy (the memory floor), all writing into a preallocated ``out=``.
2. RL discounted returns: the O(T^2) discount-matrix method vs SciPy ``lfilter`` vs
   scanwise, at a T where the matrix still fits and at a larger T where only O(T) runs.
3. 1-D cumsum of 1e8 elements.

Prints a table (rich), shows progress, writes a bar-chart PNG (matplotlib).  Peers that
are not installed are skipped with a note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import scanwise

from .timing import best_time, optional


@dataclasses.dataclass
class Row:
    case: str
    method: str
    seconds: float | None  # None: skipped
    note: str = ""


def _discount_matrix_returns(r: np.ndarray, gamma: float) -> np.ndarray:
    """The O(T^2) recipe: D[i, j] = gamma**(j - i) for j >= i, returns = D @ r."""
    t = r.shape[0]
    idx = np.arange(t)
    expo = idx[None, :] - idx[:, None]
    d = np.where(expo >= 0, gamma ** np.maximum(expo, 0).astype(np.float64), 0.0)
    return d @ r


def _lfilter_returns(r: np.ndarray, gamma: float) -> Any:
    signal = optional("scipy.signal")
    return signal.lfilter([1.0], [1.0, -gamma], r[::-1])[::-1]


def cases(quick: bool) -> list[tuple[str, str, Callable[[], Any] | None, str]]:
    """(case, method, thunk or None if unavailable, note) in run order."""
    rng = np.random.default_rng(0)
    rows, cols = (20_000, 500) if quick else (100_000, 1000)
    x = rng.standard_normal((rows, cols))
    out = np.empty_like(x)
    n1 = 2_000_000 if quick else 100_000_000
    v = rng.standard_normal(n1)
    vout = np.empty_like(v)
    t_small, t_big = (1_000, 200_000) if quick else (4_000, 10_000_000)
    gamma = 0.99
    r_small = rng.standard_normal(t_small)
    r_big = rng.standard_normal(t_big)
    scipy_ok = optional("scipy.signal") is not None
    no_scipy = "scipy not installed: skipped"

    c1 = f"cumsum [{rows}, {cols}] axis 0"
    c2 = f"discounted returns T={t_small}"
    c3 = f"discounted returns T={t_big:.0e}"
    c4 = f"cumsum 1-D n={n1:.0e}"
    return [
        (c1, "copy (memory floor)", lambda: np.copyto(out, x), ""),
        (c1, "numpy.cumsum", lambda: np.cumsum(x, axis=0, out=out), ""),
        (c1, "scanwise.cumsum", lambda: scanwise.cumsum(x, axis=0, out=out), ""),
        (c2, "discount matrix O(T^2)", lambda: _discount_matrix_returns(r_small, gamma), ""),
        (
            c2,
            "scipy lfilter",
            (lambda: _lfilter_returns(r_small, gamma)) if scipy_ok else None,
            no_scipy,
        ),
        (
            c2,
            "scanwise.discounted_cumsum",
            lambda: scanwise.discounted_cumsum(r_small, gamma, reverse=True),
            "",
        ),
        (
            c3,
            "discount matrix O(T^2)",
            None,
            f"D would need {t_big**2 * 8 / 2**30:,.0f} GiB: not run",
        ),
        (
            c3,
            "scipy lfilter",
            (lambda: _lfilter_returns(r_big, gamma)) if scipy_ok else None,
            no_scipy,
        ),
        (
            c3,
            "scanwise.discounted_cumsum",
            lambda: scanwise.discounted_cumsum(r_big, gamma, reverse=True),
            "",
        ),
        (c4, "copy (memory floor)", lambda: np.copyto(vout, v), ""),
        (c4, "numpy.cumsum", lambda: np.cumsum(v, out=vout), ""),
        (c4, "scanwise.cumsum", lambda: scanwise.cumsum(v, out=vout), ""),
    ]


def run(quick: bool = False, png: str | Path | None = None) -> list[Row]:
    """Run every case, print the table, write the chart; returns the measured rows."""
    rich_progress = optional("rich.progress")
    todo = cases(quick)
    results: list[Row] = []
    repeat = 3 if quick else 2

    def measure(case: str, method: str, fn: Callable[[], Any] | None, note: str) -> None:
        if fn is None:
            results.append(Row(case, method, None, note))
        else:
            results.append(Row(case, method, best_time(fn, repeat=repeat)))

    if rich_progress is not None:
        with rich_progress.Progress(transient=True) as progress:
            task = progress.add_task("measuring", total=len(todo))
            for case, method, fn, note in todo:
                progress.update(task, description=f"{case}: {method}")
                measure(case, method, fn, note)
                progress.advance(task)
    else:
        for case, method, fn, note in todo:
            print(f"measuring {case}: {method}", flush=True)
            measure(case, method, fn, note)
    _print_table(results)
    path = Path(png) if png is not None else Path.cwd() / "scanwise-demo.png"
    written = _chart(results, path)
    print(
        f"chart written to {written.resolve()}" if written else "matplotlib not installed: no chart"
    )
    return results


def _speedups(results: list[Row]) -> dict[tuple[str, str], str]:
    """Per case: each method's time relative to scanwise ("12.3x slower")."""
    text: dict[tuple[str, str], str] = {}
    for row in results:
        ours = next(
            (r.seconds for r in results if r.case == row.case and r.method.startswith("scanwise")),
            None,
        )
        if row.seconds is None or ours is None:
            continue
        text[(row.case, row.method)] = f"{row.seconds / ours:.2f}x"
    return text


def _print_table(results: list[Row]) -> None:
    ratios = _speedups(results)
    rich_console = optional("rich.console")
    rich_table = optional("rich.table")
    header = ("case", "method", "time [s]", "time / scanwise", "note")
    lines = [
        (
            r.case,
            r.method,
            "-" if r.seconds is None else f"{r.seconds:.3g}",
            ratios.get((r.case, r.method), "-"),
            r.note,
        )
        for r in results
    ]
    if rich_console is None or rich_table is None:
        for line in (header, *lines):
            print(" | ".join(line))
        return
    table = rich_table.Table(title="scanwise demo (best of repeated runs, one process)")
    for h in header:
        table.add_column(h)
    for line in lines:
        table.add_row(*line)
    rich_console.Console(width=130).print(table)


def _chart(results: list[Row], path: Path) -> Path | None:
    if optional("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case_names = list(dict.fromkeys(r.case for r in results))
    fig, axes = plt.subplots(len(case_names), 1, figsize=(8, 2.2 * len(case_names)))
    for ax, case in zip(np.atleast_1d(axes), case_names, strict=True):
        rows = [r for r in results if r.case == case and r.seconds is not None]
        ax.barh(
            [r.method for r in rows],
            [r.seconds for r in rows],
            color=["tab:green" if r.method.startswith("scanwise") else "tab:gray" for r in rows],
        )
        ax.set_title(case, fontsize=10)
        ax.set_xlabel("seconds (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
