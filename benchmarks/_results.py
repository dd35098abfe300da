"""Benchmark figures as data: what every ``bench_*.py`` records beside what it prints.

Adopting it in a benchmark script is three lines::

    from _results import Recorder            # benchmarks/ is on sys.path when run as a script
    rec = Recorder("rl")                     # the suite's name
    rec.add("gae T=4096 N=16", "scanwise", t_sw, role="scanwise", size=t * n)
    rec.add("gae T=4096 N=16", "numpy loop (SB3)", t_loop, role="peer", size=t * n)
    rec.add("gae T=4096 N=16", "five np.copyto", t_copy5, role="floor", size=t * n)
    rec.save()                               # at the end of main()

``role`` is ``"scanwise"`` (the figure the others are compared with; one per case),
``"peer"`` (what a user would otherwise call: the renderer prints peer / scanwise) or
``"floor"`` (the memory floor: the renderer prints scanwise / floor); anything else
(``"variant"``, ``"info"``) is kept in the file and listed, not ratioed.  Figures are
seconds per call unless ``unit`` says otherwise (``"s/call"``, ``"GiB/s"``, ``"MiB"``).
``series`` names a plot of time against size: the figures of one series at several
``size`` values are its points, one line per ``method``.

``save()`` merges the suite into the JSON file named by ``--record PATH`` on the
command line or ``$SCANWISE_BENCH_RESULTS`` (``make bench`` sets it to
``benchmarks/results/<date>-<machine>.json``); without either it writes nothing, so a
plain ``python benchmarks/bench_x.py`` stays a console run.  One file holds every suite
of one ``make bench``: the machine and versions (:func:`scanwise._versions.versions`), and
per suite the command that ran it, when, and every figure.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROLES = ("scanwise", "peer", "floor", "variant", "info")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_slug(info: dict[str, Any] | None = None) -> str:
    """``$SCANWISE_MACHINE`` or a name from the CPU model and count (``amd-epyc-2cpu``)."""
    if os.environ.get("SCANWISE_MACHINE"):
        return os.environ["SCANWISE_MACHINE"]
    if info is None:
        from scanwise._versions import versions

        info = versions(threads=False)
    cpu = re.sub(r"\((r|tm)\)|cpu|processor|@.*$", "", str(info["cpu"]).lower())
    cpu = re.sub(r"[^a-z0-9]+", "-", cpu).strip("-") or str(info["machine"])
    return f"{cpu}-{info['cpu_count']}cpu"


def default_path() -> Path:
    """``benchmarks/results/<date>-<machine>.json`` (today, UTC)."""
    return RESULTS_DIR / f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d}-{machine_slug()}.json"


def _record_path(argv: list[str]) -> Path | None:
    for k, arg in enumerate(argv):
        if arg == "--record" and k + 1 < len(argv):
            return Path(argv[k + 1])
        if arg.startswith("--record="):
            return Path(arg.split("=", 1)[1])
    env = os.environ.get("SCANWISE_BENCH_RESULTS")
    return Path(env) if env else None


def strip_record_arg(argv: list[str]) -> list[str]:
    """``argv`` without ``--record PATH`` (for scripts whose argparse does not know it)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--record":
            skip = True
        elif not arg.startswith("--record="):
            out.append(arg)
    return out


class Recorder:
    """Collects one suite's figures; :meth:`save` merges them into the results file."""

    def __init__(self, suite: str, argv: list[str] | None = None) -> None:
        self.suite = suite
        self.argv = list(sys.argv if argv is None else argv)
        self.path = _record_path(self.argv[1:])
        self.started = _dt.datetime.now(_dt.timezone.utc)
        self.figures: list[dict[str, Any]] = []

    def add(
        self,
        case: str,
        method: str,
        value: float,
        *,
        role: str,
        size: int | None = None,
        unit: str = "s",
        series: str | None = None,
        **params: Any,
    ) -> None:
        """One figure: ``method``'s ``value`` on ``case`` (seconds per call by default).

        ``size``: elements per call (the x axis of the plots); ``params``: anything else
        worth keeping (shape, threads, NaN share), JSON-serialisable.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if not isinstance(value, (int, float)) or value != value:
            raise ValueError(f"value of {case!r} / {method!r} must be a number, got {value!r}")
        fig: dict[str, Any] = {"case": case, "method": method, "role": role,
                               "value": float(value), "unit": unit}
        if size is not None:
            fig["size"] = int(size)
        if series is not None:
            fig["series"] = series
        if params:
            fig["params"] = params
        if fig not in self.figures:  # one comparison printed per peer repeats scanwise's
            self.figures.append(fig)

    def save(self) -> Path | None:
        """Merge this suite into the results file (replacing an earlier run of the same
        suite there); returns the path, or None when no file was asked for."""
        if self.path is None:
            return None
        from scanwise._versions import versions

        data: dict[str, Any] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text())
        info = versions()
        data.setdefault("machine", {k: info[k] for k in (
            "cpu", "cpu_count", "machine", "platform", "numba_threads")})
        data["machine"]["name"] = machine_slug(info)
        data.setdefault("versions", {})
        data["versions"].update({k: v for k, v in info.items() if k not in data["machine"]
                                 and k not in ("implementation",) and v is not None})
        data.setdefault("suites", {})
        data["suites"][self.suite] = {
            "command": " ".join(["python", *self.argv]),
            "started": self.started.isoformat(timespec="seconds"),
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "figures": self.figures,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
        print(f"{len(self.figures)} figures of suite {self.suite!r} recorded in {self.path}")
        return self.path
