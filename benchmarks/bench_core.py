"""Core speed targets (issue: NumPy scans at memory-bandwidth speed).

Every line times the peer and scanwise in this one process (best of N after a warm-up
call that also compiles) and prints ratios: peer / scanwise (speed-up) and
scanwise / copy (distance from the memory floor: a plain ``np.copyto`` of the same
array).  Also reports first-call compile time (cold and cached) and peak extra memory.

Every figure is also recorded (``_results.Recorder``, suite ``core``) into the results
file that ``--record PATH`` or ``$SCANWISE_BENCH_RESULTS`` names (``make bench``).

Run:  python benchmarks/bench_core.py [--quick] [--record PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tracemalloc

import numpy as np
from _results import Recorder

import scanwise
from scanwise.timing import best_time, optional

REC = Recorder("core")

# best of FAST calls for the sub-second timings (scanwise and the copy floor alike; this
# shared machine has bursts of load), best of 3 for the slow peers
FAST = 7


def line(name: str, peer: str, t_peer: float, t_sw: float, t_copy: float | None,
         size: int | None = None, ours: str = "scanwise", series: str | None = None) -> None:
    """Print one comparison and record its figures (peer, scanwise, the copy floor)."""
    REC.add(name, peer, t_peer, role="peer", size=size, series=series)
    REC.add(name, ours, t_sw, role="scanwise", size=size, series=series)
    if t_copy:
        REC.add(name, "np.copyto", t_copy, role="floor", size=size,
                series=series)
    floor = f"  scanwise/copy {t_sw / t_copy:5.2f}x" if t_copy else ""
    print(
        f"{name:<44} {peer:<28} {t_peer:8.4f}s  scanwise {t_sw:8.4f}s  "
        f"speed-up {t_peer / t_sw:6.1f}x{floor}",
        flush=True,
    )


def first_call_times() -> None:
    code = (
        "import time; t=time.perf_counter(); import numpy as np, scanwise; "
        "t1=time.perf_counter(); scanwise.cumsum(np.ones((64, 64)), axis=0); "
        "t2=time.perf_counter(); print(f'{t1-t:.3f} {t2-t1:.3f}')"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join("/tmp", f"sw-cold-{os.getpid()}"))
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    imp, c = cold.stdout.split()
    _, w = warm.stdout.split()
    REC.add("start-up", "import scanwise", float(imp), role="info")
    REC.add("start-up", "first cumsum call, cold kernel cache", float(c), role="info")
    REC.add("start-up", "first cumsum call, warm kernel cache", float(w), role="info")
    print(
        f"import scanwise: {float(imp):.3f}s; first cumsum call: cold compile {float(c):.2f}s, "
        f"cached {float(w):.2f}s"
    )


def peak_extra(fn, out_bytes: int) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - out_bytes) / out_bytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    args = parser.parse_args()
    q = args.quick
    rng = np.random.default_rng(0)
    first_call_times()

    shape = (20_000, 1000) if q else (100_000, 1000)
    x = rng.standard_normal(shape)
    out = np.empty_like(x)
    t_copy = best_time(lambda: np.copyto(out, x), repeat=FAST)
    for axis in (0, 1):
        t_np = best_time(lambda axis=axis: np.cumsum(x, axis=axis, out=out), repeat=3)
        t_sw = best_time(lambda axis=axis: scanwise.cumsum(x, axis=axis, out=out), repeat=FAST)
        line(f"cumsum {list(shape)} axis {axis} (out=)", "numpy.cumsum", t_np, t_sw, t_copy,
             x.size)

    n = 10_000_000 if q else 100_000_000
    v = rng.standard_normal(n)
    vo = np.empty_like(v)
    t_vcopy = best_time(lambda: np.copyto(vo, v), repeat=FAST)
    t_np = best_time(lambda: np.cumsum(v, out=vo), repeat=3)
    t_sw = best_time(lambda: scanwise.cumsum(v, out=vo), repeat=FAST)
    line(f"cumsum 1-D n={n:.0e} (out=)", "numpy.cumsum", t_np, t_sw, t_vcopy, n)

    signal = optional("scipy.signal")
    if signal is None:
        print("scipy not installed: lfilter comparison skipped")
    else:
        t_lf = best_time(
            lambda: signal.lfilter([1.0], [1.0, -0.99], x[::-1], axis=0)[::-1], repeat=2
        )
        t_sw = best_time(
            lambda: scanwise.discounted_cumsum(x, 0.99, axis=0, reverse=True, out=out), repeat=FAST
        )
        line(f"discounted reverse {list(shape)} axis 0", "scipy lfilter recipe", t_lf, t_sw,
             t_copy, x.size)

    ls_shape = (20_000, 500)
    y = rng.standard_normal(ls_shape)
    yo = np.empty_like(y)
    t_np = best_time(lambda: np.logaddexp.accumulate(y, axis=0, out=yo))
    t_sw = best_time(lambda: scanwise.logcumsumexp(y, axis=0, out=yo), repeat=FAST)
    t_ycopy = best_time(lambda: np.copyto(yo, y), repeat=FAST)
    line(f"logcumsumexp {list(ls_shape)} axis 0", "np.logaddexp.accumulate", t_np, t_sw,
         t_ycopy, y.size)

    # a small array: the cost of a call (validation, layout, kernel launch), per call
    calls = 500
    small = rng.standard_normal(1000)
    t_np = best_time(lambda: [np.cumsum(small) for _ in range(calls)], repeat=FAST) / calls
    t_sw = best_time(lambda: [scanwise.cumsum(small) for _ in range(calls)], repeat=FAST) / calls
    REC.add("cumsum n=1000 (per call)", "numpy.cumsum", t_np, role="peer", size=1000)
    REC.add("cumsum n=1000 (per call)", "scanwise", t_sw, role="scanwise", size=1000)
    print(f"{'cumsum n=1000 (per call)':<44} {'numpy.cumsum':<28} {t_np * 1e6:7.1f}us  "
          f"scanwise {t_sw * 1e6:7.1f}us  ({t_sw / t_np:.1f}x numpy's time)", flush=True)

    # short discounted returns (the demo's case, T=4000): the fast path for one series
    signal = optional("scipy.signal")
    for n in (1000, 4000):
        r = rng.standard_normal(n)
        name = f"discounted reverse n={n} (per call)"
        t_sw = best_time(lambda r=r: [scanwise.discounted_cumsum(r, 0.97, reverse=True)
                                      for _ in range(calls)], repeat=FAST) / calls
        t_cp = best_time(lambda r=r: [r.copy() for _ in range(calls)], repeat=FAST) / calls
        REC.add(name, "scanwise", t_sw, role="scanwise", size=n)
        REC.add(name, "x.copy()", t_cp, role="floor", size=n)
        text = f"scanwise {t_sw * 1e6:7.1f}us  copy {t_cp * 1e6:5.1f}us"
        if signal is not None:
            want = signal.lfilter([1.0], [1.0, -0.97], r[::-1])[::-1]
            assert np.allclose(scanwise.discounted_cumsum(r, 0.97, reverse=True), want)
            t_lf = best_time(lambda r=r: [signal.lfilter([1.0], [1.0, -0.97], r[::-1])[::-1]
                                          for _ in range(calls)], repeat=FAST) / calls
            REC.add(name, "scipy lfilter recipe", t_lf, role="peer", size=n)
            text += f"  lfilter {t_lf * 1e6:7.1f}us  (speed-up {t_lf / t_sw:.2f}x)"
        print(f"{name:<44} {text}", flush=True)

    design_checks(x, out, t_copy)
    sweep(rng, q)

    for axis in (0, 1):
        extra = peak_extra(lambda axis=axis: scanwise.cumsum(x, axis=axis), x.nbytes)
        REC.add(f"peak extra memory, cumsum {list(shape)} axis {axis} (no out=)", "scanwise",
                100 * extra, role="info", unit="% of the output")
        print(
            f"peak extra memory, cumsum {list(shape)} axis {axis} (no out=): "
            f"{100 * extra:.2f}% of the output"
        )
    extra = peak_extra(lambda: scanwise.discounted_cumsum(x, 0.99, axis=0, reverse=True), x.nbytes)
    REC.add("peak extra memory, discounted reverse axis 0", "scanwise", 100 * extra,
            role="info", unit="% of the output")
    print(f"peak extra memory, discounted reverse axis 0: {100 * extra:.2f}% of the output")
    REC.save()


def sweep(rng: np.random.Generator, quick: bool) -> None:
    """Time against size: cumsum along axis 0 of [n, 1000] (out=) for growing n, beside
    numpy.cumsum and the copy floor (the plots of the Performance page)."""
    rows = (1_000, 10_000) if quick else (100, 1_000, 10_000, 100_000)
    for n in rows:
        x = rng.standard_normal((n, 1000))
        out = np.empty_like(x)
        calls = max(FAST, 10_000_000 // x.size)  # more calls where one call is short
        t_copy = best_time(lambda x=x, out=out: np.copyto(out, x), repeat=calls)
        t_np = best_time(lambda x=x, out=out: np.cumsum(x, axis=0, out=out),
                         repeat=max(3, calls // 3))
        t_sw = best_time(lambda x=x, out=out: scanwise.cumsum(x, axis=0, out=out),
                         repeat=calls)
        line(f"sweep cumsum [{n}, 1000] axis 0 (out=)", "numpy.cumsum", t_np, t_sw, t_copy,
             x.size, series="cumsum [n, 1000] axis 0")


def design_checks(x: np.ndarray, out: np.ndarray, t_copy: float) -> None:
    """The README's design notes 4 and 6 (lane blocks, streaming stores), measured on
    the axis-0 cumsum: each variant against the chosen one and the copy floor."""
    from scanwise import _layout

    def timed() -> float:
        return best_time(lambda: scanwise.cumsum(x, axis=0, out=out), repeat=FAST)

    chosen = timed()
    variants = {}
    old = (_layout.STREAM_MIN_BYTES, _layout.lane_block)
    try:
        _layout.STREAM_MIN_BYTES = 1 << 62
        variants["plain stores"] = timed()
        _layout.STREAM_MIN_BYTES = old[0]
        _layout.lane_block = lambda out3, n_threads, min_lanes=64: out3.shape[2]
        variants["one whole-row block"] = timed()
    finally:
        _layout.STREAM_MIN_BYTES, _layout.lane_block = old
    REC.add(f"design check, cumsum {list(x.shape)} axis 0", "chosen", chosen, role="variant")
    for name, t in variants.items():
        REC.add(f"design check, cumsum {list(x.shape)} axis 0", name, t, role="variant")
    print(f"design check, cumsum {list(x.shape)} axis 0: chosen {chosen:.4f}s "
          f"({chosen / t_copy:.2f}x copy)", end="")
    for name, t in variants.items():
        print(f" | {name} {t:.4f}s ({t / t_copy:.2f}x copy)", end="")
    print(flush=True)


if __name__ == "__main__":
    main()
