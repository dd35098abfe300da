"""``scanwise demo``: the problems that started the project, solved side by side.

1. ``np.cumsum`` along the long axis of a [100000, 1000] float64 matrix vs scanwise vs a
   plain copy (the memory floor), all writing into a preallocated ``out=``.
2. RL discounted returns: the O(T^2) discount-matrix method vs SciPy ``lfilter`` vs
   scanwise, at a T where the matrix still fits and at a larger T where only O(T) runs.
3. 1-D cumsum of 1e8 elements.
4. EW mean of a [T, 100] frame with pandas' semantics, against pandas, polars and numbagg.
5. GAE over a [T, N] rollout, against Stable-Baselines3's loop over time and TorchRL.

Prints a table (rich), shows progress, writes a chart PNG (matplotlib): one panel per
case, every method's time over scanwise's, labelled, on a log scale where the span is
wide.  Peers that are not installed are skipped with a note; scanwise's result is
checked against each installed peer's before anything is timed.
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


def _sb3_gae(r: np.ndarray, v: np.ndarray, nv: np.ndarray, term: np.ndarray, gamma: float,
             lam: float) -> np.ndarray:
    """Stable-Baselines3's GAE: a Python loop over time, vectorised over envs."""
    adv = np.empty_like(r)
    last = np.zeros(r.shape[1], dtype=r.dtype)
    not_term = 1.0 - term
    for t in range(r.shape[0] - 1, -1, -1):
        delta = r[t] + gamma * nv[t] * not_term[t] - v[t]
        last = delta + gamma * lam * not_term[t] * last
        adv[t] = last
    return adv


def _checked(fn: Callable[[], Any], want: np.ndarray, rtol: float,
             where: np.ndarray | None = None) -> Callable[[], Any]:
    """``fn``, after checking its result against scanwise's ``want`` (at ``where`` only,
    if given): the demo never times a peer that computes something else."""
    got = np.asarray(fn(), dtype=np.float64)
    if where is not None:
        got, want = got[where], want[where]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)
    return fn


def _peer_cases(quick: bool) -> list[tuple[str, str, Callable[[], Any] | None, str]]:
    """The EWM and GAE cases, what users come for, with the peers that are installed."""
    rng = np.random.default_rng(1)
    t_ewm = 20_000 if quick else 200_000
    x = rng.standard_normal((t_ewm, 100))
    x[rng.random(x.shape) < 0.01] = np.nan
    halflife = 20.0
    alpha = 1.0 - np.exp(-np.log(2.0) / halflife)
    want = scanwise.ewm_mean(x, axis=0, alpha=alpha)
    c5 = f"ewm_mean [{t_ewm}, 100] 1% NaN"
    pd, pl, nb = optional("pandas"), optional("polars"), optional("numbagg")
    rows: list[tuple[str, str, Callable[[], Any] | None, str]] = []
    if pd is not None:
        frame = pd.DataFrame(x)
        rows.append((c5, "pandas DataFrame.ewm().mean()",
                     _checked(lambda: frame.ewm(alpha=alpha).mean(), want, 1e-9), ""))
    else:
        rows.append((c5, "pandas", None, "pandas not installed: skipped"))
    if pl is not None:  # NaN as null: pandas' missing values, not polars' NaN arithmetic
        frame_pl = pl.DataFrame(x).fill_nan(None)
        # (polars keeps null where the input is null; pandas repeats the last mean there)
        rows.append((c5, "polars ewm_mean",
                     _checked(lambda: frame_pl.select(pl.all().ewm_mean(alpha=alpha,
                                                                        ignore_nulls=False)),
                              want, 1e-9, where=~np.isnan(x)), ""))
    if nb is not None:
        rows.append((c5, "numbagg move_exp_nanmean",
                     _checked(lambda: nb.move_exp_nanmean(x, alpha=alpha, axis=0), want,
                              1e-9), ""))
    rows.append((c5, "scanwise.ewm_mean", lambda: scanwise.ewm_mean(x, axis=0, alpha=alpha),
                 ""))

    t_rl, n_rl = (512, 64) if quick else (2048, 256)
    gamma, lam = 0.99, 0.95
    r, v, nv = (rng.standard_normal((t_rl, n_rl)) for _ in range(3))
    term = rng.random((t_rl, n_rl)) < 0.01
    adv, _ = scanwise.gae(r, v, nv, terminated=term, discount=gamma, lam=lam)
    c6 = f"gae T={t_rl} N={n_rl}"
    rows.append((c6, "SB3 loop over time",
                 _checked(lambda: _sb3_gae(r, v, nv, term, gamma, lam), adv, 1e-9), ""))
    # (not in --quick: importing torch and TorchRL alone takes seconds)
    functional = None if quick else optional("torchrl.objectives.value.functional")
    if functional is not None:
        import torch

        def tt(a: np.ndarray) -> Any:  # TorchRL's layout: [N, T, 1], time along -2
            return torch.from_numpy(np.ascontiguousarray(a.T[..., None]))

        args = (tt(v), tt(nv), tt(r), tt(term), tt(term))

        def torchrl_gae() -> Any:
            out, _ = functional.generalized_advantage_estimate(gamma, lam, *args, time_dim=-2)
            return out[..., 0].numpy().T

        rows.append((c6, "TorchRL generalized_advantage_estimate",  # (its discount
                     _checked(torchrl_gae, adv, 1e-4), ""))  # factors are float32)
    else:
        rows.append((c6, "TorchRL", None,
                     "not in --quick" if quick else "torchrl not installed: skipped"))
    rows.append((c6, "scanwise.gae",
                 lambda: scanwise.gae(r, v, nv, terminated=term, discount=gamma, lam=lam),
                 ""))
    return rows


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
        *_peer_cases(quick),
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
    """One panel per case: each method's time over scanwise's (scanwise = 1), labelled,
    the bars of the peers grey and the copy floor blue; a log axis where they span more
    than 20x (the O(T^2) matrix beside a copy)."""
    if optional("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case_names = list(dict.fromkeys(r.case for r in results))
    fig, axes = plt.subplots(len(case_names), 1, figsize=(9, 1.9 * len(case_names)))
    for ax, case in zip(np.atleast_1d(axes), case_names, strict=True):
        rows = [r for r in results if r.case == case and r.seconds is not None]
        ours = next((r.seconds for r in rows if r.method.startswith("scanwise")), None)
        if not ours:
            ax.set_title(f"{case}: scanwise not measured", fontsize=10)
            continue
        ratios = [r.seconds / ours for r in rows]
        colors = ["tab:green" if r.method.startswith("scanwise")
                  else "tab:blue" if "copy" in r.method else "tab:gray" for r in rows]
        bars = ax.barh([r.method for r in rows], ratios, color=colors)
        ax.bar_label(bars, labels=[f"{q:.3g}x" for q in ratios], padding=3, fontsize=8)
        ax.invert_yaxis()
        if max(ratios) / min(ratios) > 20:
            ax.set_xscale("log")
        ax.set_xlim(right=max(ratios) * (4 if ax.get_xscale() == "log" else 1.25))
        ax.axvline(1.0, color="tab:green", lw=0.8, ls=":")
        ax.set_title(f"{case}: time / scanwise's ({ours * 1e3:.3g} ms); above 1x scanwise "
                     "is faster", fontsize=9)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
