"""Turn committed benchmark results into the README's performance table and the docs'
Performance page (ratio tables and plots of time against size).

    python benchmarks/render.py            # rewrite README.md's table, docs/performance.md, plots
    python benchmarks/render.py --check    # exit 1 if README.md or docs/performance.md differ
    python benchmarks/render.py --results benchmarks/results/2026-12-03-amd-epyc-2cpu.json

The input is the newest ``benchmarks/results/*.json`` (file names start with the date)
unless ``--results`` names one; its format is written by ``benchmarks/_results.py``.
Every number on the page and in the table comes from that file: nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
PAGE = ROOT / "docs" / "performance.md"
IMG_DIR = ROOT / "docs" / "img"
START, END = "<!-- performance-table:start -->", "<!-- performance-table:end -->"

# the README's rows: the first case of each suite whose name matches, in this order
HEADLINE = [
    ("core", r"^cumsum \[\d+, 1000\] axis 0"),
    ("core", r"^cumsum 1-D"),
    ("core", r"^discounted reverse"),
    ("core", r"^logcumsumexp"),
    ("ewm", r"^ewm_mean \[\d+, 1000\] 1% NaN$"),
    ("ewm", r"^ewm_var \[\d+, 200\] 1% NaN$"),
    ("ewm", r"^ewm_mean times="),
    ("rl", r"^gae"),
    ("dask", r"^in-memory dask"),
]
SUITE_TITLES = {"core": "Core scans (NumPy)", "ewm": "Exponentially weighted statistics",
                "rl": "RL returns", "dask": "Dask", "torch": "PyTorch", "startup": "Start-up"}


def latest(results_dir: Path = RESULTS_DIR) -> Path:
    files = sorted(results_dir.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no results in {results_dir}: run `make bench` first")
    return files[-1]


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or latest()
    data = json.loads(Path(path).read_text())
    data["_file"] = Path(path).name
    return data


def fmt_time(seconds: float) -> str:
    """A time with three significant digits in a readable unit (1.23 ms, 45.6 µs)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.3g} {unit}"
    raise AssertionError  # pragma: no cover


def fmt_value(fig: dict[str, Any]) -> str:
    return fmt_time(fig["value"]) if fig["unit"] == "s" else f"{fig['value']:.3g} {fig['unit']}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2g}x" if r < 10 else f"{r:.0f}x"


def cases(data: dict[str, Any]) -> OrderedDict[tuple[str, str], list[dict[str, Any]]]:
    """(suite, case) -> its figures, in recording order; one figure per (method, role):
    the fastest where a method was recorded twice."""
    out: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
    for suite, body in data["suites"].items():
        for fig in body["figures"]:
            figs = out.setdefault((suite, fig["case"]), [])
            same = [f for f in figs if f["method"] == fig["method"] and f["role"] == fig["role"]]
            if not same:
                figs.append(fig)
            elif fig["value"] < same[0]["value"] and fig["unit"] == "s":
                figs[figs.index(same[0])] = fig
    return out


def ratios(figs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A case's comparison: scanwise's time, each peer's time and peer / scanwise, each
    floor's time and scanwise / floor; None when the case has no timed scanwise figure."""
    ours = [f for f in figs if f["role"] == "scanwise" and f["unit"] == "s"]
    if not ours:
        return None
    t = ours[0]["value"]
    return {
        "scanwise": ours[0],
        "peers": [(f, f["value"] / t) for f in figs if f["role"] == "peer" and f["unit"] == "s"],
        "floors": [(f, t / f["value"]) for f in figs if f["role"] == "floor" and f["unit"] == "s"],
    }


def machine_line(data: dict[str, Any]) -> str:
    m, v = data["machine"], data["versions"]
    started = min(s["started"] for s in data["suites"].values())
    libs = ", ".join(f"{k} {v[k]}" for k in ("numpy", "numba", "pandas", "polars", "numbagg",
                                              "dask", "torch") if v.get(k))
    return (f"`{data['_file']}`: {m['cpu']}, {m['cpu_count']} CPUs, {m.get('numba_threads')} "
            f"numba threads; Python {v.get('python')}, scanwise {v.get('scanwise')}, {libs}; "
            f"run {started[:10]}")


def readme_table(data: dict[str, Any]) -> str:
    """The README's table: one row per headline case and peer."""
    by_case = cases(data)
    lines = [
        f"Measured by `make bench` ({machine_line(data)}); each time is the best of "
        "repeated calls in one process, the peer's beside scanwise's in the same run. "
        "Generated by `benchmarks/render.py`: the full tables and plots are on the "
        "Performance page of the docs (`docs/performance.md`).",
        "",
        "| case | scanwise | peer | peer's time | speed-up | scanwise / copy floor |",
        "|---|---|---|---|---|---|",
    ]
    for suite, pattern in HEADLINE:
        hit = next(((s, c) for (s, c) in by_case if s == suite and re.search(pattern, c)), None)
        if hit is None:
            continue
        r = ratios(by_case[hit])
        if r is None:
            continue
        floor = fmt_ratio(r["floors"][0][1]) if r["floors"] else "-"
        for k, (fig, ratio) in enumerate(r["peers"] or [(None, None)]):
            lines.append(
                f"| {hit[1] if k == 0 else ''} | {fmt_value(r['scanwise']) if k == 0 else ''} | "
                f"{fig['method'] if fig else '-'} | {fmt_value(fig) if fig else '-'} | "
                f"{fmt_ratio(ratio) if fig else '-'} | {floor if k == 0 else ''} |"
            )
    return "\n".join(lines) + "\n"


def series_groups(data: dict[str, Any]) -> OrderedDict[str, dict[str, list[tuple[int, float]]]]:
    """plot name -> method -> [(size, seconds)] sorted by size (series of >= 2 sizes)."""
    groups: OrderedDict[str, dict[str, list[tuple[int, float]]]] = OrderedDict()
    for (_suite, _case), figs in cases(data).items():
        for f in figs:
            if "series" in f and "size" in f and f["unit"] == "s":
                groups.setdefault(f["series"], {}).setdefault(f["method"], []).append(
                    (f["size"], f["value"]))
    return OrderedDict((k, {m: sorted(p) for m, p in v.items()}) for k, v in groups.items()
                       if max(len(p) for p in v.values()) >= 2)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def plot(name: str, lines: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """Time against size, log-log, one line per method (scanwise green, floors dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "scanwise"  # stable ids: the SVG changes only with data
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for method, pts in lines.items():
        xs, ys = zip(*pts, strict=True)
        style = {"color": "tab:green", "linewidth": 2.5, "marker": "o"}
        if not method.startswith("scanwise"):
            style = {"marker": "s", "linewidth": 1.5}
        if "copy" in method:
            style = {"color": "0.45", "linestyle": "--", "marker": "", "linewidth": 1.2}
        ax.plot(xs, ys, label=method, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements per call")
    ax.set_ylabel("seconds per call (lower is better)")
    ax.set_title(name, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None, "Creator": None})
    plt.close(fig)


def page(data: dict[str, Any], plots: dict[str, str]) -> str:
    """docs/performance.md: every timed case as a table of ratios, the plots, the rest."""
    by_case = cases(data)
    out = [
        "# Performance",
        "",
        "<!-- generated by benchmarks/render.py from benchmarks/results/: do not edit -->",
        "",
        f"Results file {machine_line(data)}.",
        "",
        "Every time is the best of repeated calls in one process after a warm-up call "
        "(which compiles), the peers' beside scanwise's in the same run: the machine "
        "is shared, so ratios within a run are what to read, not the absolute times. "
        "**speed-up** is the peer's time over scanwise's (above 1: scanwise is faster); "
        "**/ floor** is scanwise's time over the memory floor's, a plain copy of the same "
        "array (`np.copyto`), the least any scan that reads its input and writes its "
        "output can cost (1.0 is the floor itself).",
        "",
        "To reproduce: `make bench` (writes `benchmarks/results/<date>-<machine>.json`), "
        "then `python benchmarks/render.py`. The commands of this run:",
        "",
    ]
    for suite, body in data["suites"].items():
        out.append(f"- {SUITE_TITLES.get(suite, suite)}: `{body['command']}` "
                   f"({body['started']} to {body['finished'][11:]})")
    out.append("")
    if plots:
        out += ["## Time against size", ""]
        for name, file in plots.items():
            out += [f"![{name}](img/{file})", ""]
    for suite in data["suites"]:
        rows, other = [], []
        for (s, case), figs in by_case.items():
            if s != suite:
                continue
            r = ratios(figs)
            if r is None or not (r["peers"] or r["floors"]):
                other.append((case, figs))
                continue
            floor = ", ".join(f"{fmt_ratio(x)} ({fmt_value(f)})" for f, x in r["floors"]) or "-"
            peers = r["peers"] or [(None, None)]
            for k, (fig, ratio) in enumerate(peers):
                rows.append(
                    f"| {case if k == 0 else ''} | {fmt_value(r['scanwise']) if k == 0 else ''} "
                    f"| {fig['method'] if fig else '-'} | {fmt_value(fig) if fig else '-'} | "
                    f"{fmt_ratio(ratio) if fig else '-'} | {floor if k == 0 else ''} |")
        out += [f"## {SUITE_TITLES.get(suite, suite)}", ""]
        if rows:
            out += ["| case | scanwise | peer | peer's time | speed-up | / floor (floor's time) |",
                    "|---|---|---|---|---|---|", *rows, ""]
        if other:
            out += ["Other figures of this suite (variants, start-up, memory, throughput):", "",
                    "| case | what | value |", "|---|---|---|"]
            for case, figs in other:
                for k, f in enumerate(figs):
                    out.append(f"| {case if k == 0 else ''} | {f['method']} | {fmt_value(f)} |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def splice(text: str, table: str) -> str:
    """``text`` with the block between the README markers replaced by ``table``."""
    if START not in text or END not in text:
        raise ValueError(f"README.md has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def render(data: dict[str, Any], write_plots: bool = True) -> tuple[str, str]:
    """(README.md text, docs/performance.md text); writes the plots unless told not to."""
    plots = {name: f"perf-{slug(name)}.svg" for name in series_groups(data)}
    if write_plots:
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        for name, lines in series_groups(data).items():
            plot(name, lines, IMG_DIR / plots[name])
    return splice(README.read_text(), readme_table(data)), page(data, plots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 if a file differs")
    args = parser.parse_args(argv)
    data = load(args.results)
    readme, perf = render(data, write_plots=not args.check)
    stale = [p for p, text in ((README, readme), (PAGE, perf))
             if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} differs from `python benchmarks/render.py`'s output")
        return 1 if stale else 0
    README.write_text(readme)
    PAGE.write_text(perf)
    print(f"wrote {README.relative_to(ROOT)}, {PAGE.relative_to(ROOT)} and "
          f"{len(series_groups(data))} plots from {data['_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
