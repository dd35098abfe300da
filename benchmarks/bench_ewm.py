"""EWM speed targets (issue: EWM family with pandas semantics).

Peers and scanwise are timed in this one process (best of N after a warm-up call that
also compiles; for the target lines, in interleaved rounds: ``timing.best_times``);
lines print peer / scanwise (speed-up) and, for the mean with ``out=``,
scanwise / copy (the memory floor: ``np.copyto`` of the same array).  pandas and polars
get their native objects, built before timing; polars gets nulls where the data has NaN
(its missing-value marker) so that it does the same work.

Every figure is also recorded (``_results.Recorder``, suite ``ewm``) into the results
file that ``--record PATH`` or ``$SCANWISE_BENCH_RESULTS`` names (``make bench``).

Run:  python benchmarks/bench_ewm.py [--quick] [--record PATH]
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from _results import Recorder

import scanwise
from scanwise.timing import best_time, best_times, optional

REC = Recorder("ewm")

# best of FAST calls for scanwise, the copy floor and every sub-second peer (polars,
# numbagg): this shared 2-core machine has bursts of load, and the best of many calls is
# the time without them; best of SLOW for calls of about a second (pandas mean, corr)
FAST = 15
SLOW = 3
ROUNDS = 3  # interleaved rounds of the target lines (FAST // ROUNDS calls per round)


def line(name: str, peer: str, t_peer: float, t_sw: float, extra: str = "",
         size: int | None = None, series: str | None = None) -> None:
    """Print one comparison and record both figures (the peer's, scanwise's)."""
    REC.add(name, peer, t_peer, role="peer", size=size, series=series)
    REC.add(name, "scanwise", t_sw, role="scanwise", size=size,
            series=series)
    print(
        f"{name:<40} {peer:<30} {t_peer:8.4f}s  scanwise {t_sw:8.4f}s  "
        f"speed-up {t_peer / t_sw:6.1f}x{extra}",
        flush=True,
    )


def interleaved(fns: dict[str, tuple]) -> dict[str, float]:
    """Best time of each ``(function, calls)``, in ``ROUNDS`` interleaved rounds."""
    keys = list(fns)
    times = best_times([fns[k][0] for k in keys],
                       [max(1, fns[k][1] // ROUNDS) for k in keys], rounds=ROUNDS)
    return dict(zip(keys, times, strict=True))


def target(label, stat, data, out, extra, pandas, polars, numbagg_fn):
    """A target line: scanwise (with ``out=`` and allocating), ``extra`` and the peers in
    interleaved rounds; prints the peers' lines and returns every time by key.

    ``pandas``/``polars``: ``(build the native object, call on it[, calls])`` or a false
    value when not installed; the objects are built before timing.  ``numbagg_fn``: the
    call, or a false value.
    """
    fn = getattr(scanwise, f"ewm_{stat}")
    fns = dict(extra)
    fns["sw"] = (lambda: fn(data, axis=0, alpha=0.05, out=out), FAST)
    fns["alloc"] = (lambda: fn(data, axis=0, alpha=0.05), FAST)
    names = {"pandas": f"pandas DataFrame.ewm().{stat}()",
             "polars": f"polars ewm_{stat} (all columns)",
             "numbagg": f"numbagg move_exp_nan{stat}"}
    for key, spec in [("pandas", pandas), ("polars", polars)]:
        if spec:
            obj, call = spec[0](), spec[1]
            fns[key] = (lambda o=obj, c=call: c(o), spec[2] if len(spec) > 2 else FAST)
    if numbagg_fn:
        fns["numbagg"] = (numbagg_fn, FAST)
    t = interleaved(fns)
    REC.add(label, "scanwise without out=", t["alloc"], role="variant", size=data.size)
    print(f"{label:<40} {'(without out=)':<30} {'':9}  scanwise {t['alloc']:8.4f}s", flush=True)
    for key in ("pandas", "polars", "numbagg"):
        if key in t:
            line(label, names[key], t[key], t["sw"],
                 f"  (without out=: {t[key] / t['alloc']:.1f}x)", size=data.size)
    if "sw" in t and not any(k in t for k in ("pandas", "polars", "numbagg")):
        REC.add(label, "scanwise", t["sw"], role="scanwise", size=data.size)
    return t


@functools.cache
def _copy_rows():
    """The kernel of :func:`parallel_copy`, compiled on first use."""
    from numba import njit, prange

    from scanwise._kernels.stream import drain, stream_row

    @njit(parallel=True, error_model="numpy")
    def copy_rows(x, out, n_tasks):
        n = x.shape[0]
        for k in prange(n_tasks):
            row = np.empty(x.shape[1])
            for t in range(k * n // n_tasks, (k + 1) * n // n_tasks):
                src = x[t]
                for j in range(row.size):
                    row[j] = src[j]
                stream_row(out[t], row)
            drain(True)

    return copy_rows


def parallel_copy(x: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = x`` (C-contiguous 2-D arrays) on every thread, each a contiguous run of
    rows, with the kernels' streamed row stores: whether threads together copy faster
    than the one-thread ``np.copyto`` here."""
    import numba

    _copy_rows()(x, out, numba.get_num_threads())


@functools.cache
def _minimal_scan():
    """The kernel of :func:`minimal_scan`, compiled on first use."""
    from numba import njit, prange

    from scanwise._kernels.stream import PREFETCH_ROWS, drain, prefetch_row, stream_row

    @njit(parallel=True, error_model="numpy")
    def scan(x, out, block):
        n_t, n = x.shape
        for k in prange((n + block - 1) // block):
            i0, i1 = k * block, min(n, (k + 1) * block)
            h = np.zeros(i1 - i0)
            for t in range(n_t):
                prefetch_row(x[min(n_t - 1, t + PREFETCH_ROWS), i0:i1])
                src = x[t]
                for j in range(h.size):
                    h[j] += src[i0 + j]
                stream_row(out[t, i0:i1], h)
            drain(True)

    return scan


def minimal_scan(x: np.ndarray, out: np.ndarray) -> None:
    """The cumulative sum along axis 0 of a C-contiguous 2-D ``x``, in the kernels' lane
    blocks (``scanwise._layout.lane_block``) with their row prefetch and streamed rows,
    and nothing else: no reset, initial state or chunk loop.  How far the scan
    structure of the real kernels (``cumsum`` here) is from the least it could cost."""
    import numba

    from scanwise import _layout

    block = _layout.lane_block(out[None], numba.get_num_threads())
    _minimal_scan()(x, out, block)


@functools.cache
def check_floor_kernels() -> None:
    """The two floor kernels compute what they claim (a fast wrong copy would make a low
    floor): :func:`parallel_copy` against the input, :func:`minimal_scan` against
    ``np.cumsum``, on odd shapes (rows that end mid-line, blocks of unequal width)."""
    rng = np.random.default_rng(2)
    for shape in [(1001, 203), (3000, 1000), (5, 3)]:
        x = rng.standard_normal(shape)
        out = np.empty_like(x)
        parallel_copy(x, out)
        assert np.array_equal(out, x), f"parallel_copy is wrong on {shape}"
        minimal_scan(x, out)
        assert np.array_equal(out, np.cumsum(x, axis=0)), f"minimal_scan is wrong on {shape}"


def lane_loop_ns(stat: str, lanes: int) -> float:
    """ns per element of ``ewm_{stat}``'s lane loop on one thread, in cache: the time of
    [500, lanes] less that of [250, lanes] (which cancels the cost of the call), over
    the 250 * lanes elements between them; 1.6 MB in and out at 200 lanes, within a
    core's L2."""
    import numba

    fn = getattr(scanwise, f"ewm_{stat}")
    rng = np.random.default_rng(1)
    small = [rng.standard_normal((n, lanes)) for n in (250, 500)]
    outs = [np.empty_like(a) for a in small]
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    calls = [lambda a=a, o=o: fn(a, axis=0, alpha=0.05, out=o)
             for a, o in zip(small, outs, strict=True)]
    ts = []
    try:  # ten tries over a few seconds: load on this shared machine comes in bursts of
        for _ in range(10):  # seconds; a difference of two loaded times means nothing
            ts.append(best_times(calls, [50, 50], rounds=2))
            time.sleep(0.3)
    finally:
        numba.set_num_threads(threads)
    quiet = [min(t[k] for t in ts) for k in (0, 1)]  # each size's best over all tries
    return (quiet[1] - quiet[0]) / (250 * lanes) * 1e9


def floors(label: str, stat: str, t: dict[str, float], size: int, peer: str, times: int) -> None:
    """What ``times``x ``peer`` asks of ``ewm_{stat}``, beside the floors measured here:
    the one-thread ``np.copyto``; a copy on every thread (:func:`parallel_copy`); a
    lane-blocked scan whose arithmetic is one addition, as bare as it gets
    (:func:`minimal_scan`) and as the kernels run it (``cumsum``: the same tasks,
    prefetches and streamed stores as the EW kernels); and the statistic's lane loop
    alone (in cache, per thread: :func:`lane_loop_ns`) times the elements per thread."""
    import numba

    check_floor_kernels()
    threads = numba.get_num_threads()
    arith = lane_loop_ns(stat, 200) * 1e-9 * size / threads
    REC.add(label, "np.copyto", t["copy"], role="floor", size=size)
    for key, name in [("pcopy", f"copy on {threads} threads"), ("minscan", "minimal scan"),
                      ("cumsum", "scanwise.cumsum")]:
        REC.add(label, name, t[key], role="variant", size=size)
    REC.add(label, f"lane-loop arithmetic ({threads} threads)", arith, role="variant",
            size=size)
    if peer in t:
        asks = t[peer] / times
        print(f"{label:<40} {f'{times}x {peer} asks for':<30} {asks:8.4f}s  = "
              f"{asks / t['copy']:.2f}x np.copyto", flush=True)
    print(f"{label:<40} {'floors':<30} np.copyto {t['copy']:.4f}s  copy on {threads} threads "
          f"{t['pcopy']:.4f}s  minimal scan {t['minscan']:.4f}s  cumsum {t['cumsum']:.4f}s  "
          f"lane-loop arithmetic ({threads} threads) {arith:.4f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    q = parser.parse_args().quick
    rng = np.random.default_rng(0)
    pd, pl, numbagg = optional("pandas"), optional("polars"), optional("numbagg")
    for name, mod in [("pandas", pd), ("polars", pl), ("numbagg", numbagg)]:
        if mod is None:
            print(f"{name} not installed: its comparison is skipped")

    # ewm_mean on [100000, 1000] with 1% NaN, axis 0
    shape = (20_000, 1000) if q else (100_000, 1000)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.01] = np.nan
    out = np.empty_like(x)
    label = f"ewm_mean {list(shape)} 1% NaN"
    # peers allocate their result: the speed-up against the allocating call is printed too
    # (the gap is the first touch of 800 MB of fresh pages, which peers pay as well)
    t = target(
        label, "mean", x, out, {"copy": (lambda: np.copyto(out, x), FAST),
                                "pcopy": (lambda: parallel_copy(x, out), FAST),
                                "minscan": (lambda: minimal_scan(x, out), FAST),
                                "cumsum": (lambda: scanwise.cumsum(x, axis=0, out=out), FAST)},
        pd and (lambda: pd.DataFrame(x), lambda df: df.ewm(alpha=0.05).mean(), SLOW),
        pl and (lambda: pl.DataFrame(x).fill_nan(None),
                lambda f: f.select(pl.all().ewm_mean(alpha=0.05))),
        numbagg and (lambda: numbagg.move_exp_nanmean(x, axis=0, alpha=0.05)),
    )
    print(f"{label:<40} {'copy (memory floor)':<30} {t['copy']:8.4f}s  scanwise/copy "
          f"{t['sw'] / t['copy']:5.2f}x  (scanwise with out=)", flush=True)
    floors(label, "mean", t, x.size, "polars", 8)
    out = None  # free 800 MB before the next case

    # ewm_var on [100000, 200]
    vshape = (20_000, 200) if q else (100_000, 200)
    v = rng.standard_normal(vshape)
    v[rng.random(vshape) < 0.01] = np.nan
    vout = np.empty_like(v)
    label = f"ewm_var {list(vshape)} 1% NaN"
    t = target(
        label, "var", v, vout,
        {"copy": (lambda: np.copyto(vout, v), FAST),
         "pcopy": (lambda: parallel_copy(v, vout), FAST),
         "minscan": (lambda: minimal_scan(v, vout), FAST),
         "cumsum": (lambda: scanwise.cumsum(v, axis=0, out=vout), FAST)},
        pd and (lambda: pd.DataFrame(v), lambda df: df.ewm(alpha=0.05).var(), FAST),
        pl and (lambda: pl.DataFrame(v).fill_nan(None),
                lambda f: f.select(pl.all().ewm_var(alpha=0.05))),
        numbagg and (lambda: numbagg.move_exp_nanvar(v, axis=0, alpha=0.05)),
    )
    floors(label, "var", t, v.size, "pandas", 15)
    vdf = None if pd is None else pd.DataFrame(v)

    # ewm_std on the same shape (no target): the variance's loop plus a square root;
    # these lines also print scanwise / copy (np.copyto of the same array)
    t_vcopy = best_time(lambda: np.copyto(vout, v), repeat=FAST)
    t_sw = best_time(lambda: scanwise.ewm_std(v, axis=0, alpha=0.05, out=vout), repeat=FAST)
    if pd is not None:
        t = best_time(lambda: vdf.ewm(alpha=0.05).std(), repeat=SLOW)
        line(f"ewm_std {list(vshape)} 1% NaN", "pandas DataFrame.ewm().std()", t, t_sw,
             f"  ({t_sw / t_vcopy:.1f}x copy)", size=v.size)
    REC.add(f"ewm_std {list(vshape)} 1% NaN", "np.copyto", t_vcopy, role="floor", size=v.size)
    if numbagg is not None:
        t = best_time(lambda: numbagg.move_exp_nanstd(v, axis=0, alpha=0.05), repeat=FAST)
        line(f"ewm_std {list(vshape)} 1% NaN", "numbagg move_exp_nanstd", t, t_sw, size=v.size)

    # min_periods (and return_state) count observations: a copy of the same loop
    t_sw = best_time(
        lambda: scanwise.ewm_var(v, axis=0, alpha=0.05, min_periods=20, out=vout), repeat=FAST
    )
    if pd is not None:
        t = best_time(lambda: vdf.ewm(alpha=0.05, min_periods=20).var(), repeat=SLOW)
        line(f"ewm_var min_periods=20 {list(vshape)}", "pandas DataFrame.ewm().var()", t, t_sw,
             f"  ({t_sw / t_vcopy:.1f}x copy)", size=v.size)

    # ewm_corr on the same shape (no target; pandas computes three ewmcov passes)
    u = v + rng.standard_normal(vshape)
    t_sw = best_time(lambda: scanwise.ewm_corr(v, u, axis=0, alpha=0.05, out=vout), repeat=FAST)
    if pd is not None:
        udf = pd.DataFrame(u)
        t = best_time(lambda: vdf.ewm(alpha=0.05).corr(udf), repeat=SLOW)
        line(f"ewm_corr {list(vshape)} 1% NaN", "pandas DataFrame.ewm().corr()", t, t_sw,
             size=v.size)

    # lane blocks (README, Design): the memory-bound mean keeps rows whole below 512 lanes,
    # the compute-bound variance splits them so that every thread works
    from scanwise import _layout

    narrow = (20_000, 200) if q else (100_000, 200)
    w = rng.standard_normal(narrow)
    wout = np.empty_like(w)
    t_copy = best_time(lambda: np.copyto(wout, w), repeat=FAST)
    chosen = _layout.lane_block
    for label, block in [("chosen blocks", None), ("one 200-lane block", 200),
                         ("two 104-lane blocks", 104)]:
        if block is not None:
            _layout.lane_block = lambda out3, n_threads, min_lanes=64, b=block: b
        try:
            t_m = best_time(lambda: scanwise.ewm_mean(w, axis=0, alpha=0.05, out=wout), repeat=FAST)
            t_v = best_time(lambda: scanwise.ewm_var(w, axis=0, alpha=0.05, out=wout), repeat=FAST)
        finally:
            _layout.lane_block = chosen
        case = f"lane blocks {list(narrow)}"
        REC.add(case, f"ewm_mean, {label}", t_m, role="variant", size=w.size)
        REC.add(case, f"ewm_var, {label}", t_v, role="variant", size=w.size)
        print(f"{list(narrow)} {label:<20} ewm_mean {t_m:.4f}s ({t_m / t_copy:.2f}x copy)  "
              f"ewm_var {t_v:.4f}s", flush=True)

    # ewm_mean with times on 2e6 irregular datetime points
    n = 200_000 if q else 2_000_000
    gaps = rng.exponential(30.0, n).astype("int64") + 1
    times = np.datetime64("2024-01-01", "ns") + np.cumsum(gaps).astype("m8[s]")
    y = rng.standard_normal(n)
    y[rng.random(n) < 0.01] = np.nan
    yout = np.empty_like(y)
    label = f"ewm_mean times= n={n:.0e} irregular"
    fns = {"sw": (lambda: scanwise.ewm_mean(y, times=times, halflife="1h", out=yout), FAST),
           "copy": (lambda: np.copyto(yout, y), FAST)}
    if pd is not None:
        s, dti = pd.Series(y), pd.DatetimeIndex(times)
        fns["pandas"] = (lambda: s.ewm(halflife="1h", times=dti).mean(), FAST)
    if pl is not None:
        tf = pl.DataFrame({"t": times, "y": y}).with_columns(pl.col("y").fill_nan(None))
        fns["polars"] = (lambda: tf.select(pl.col("y").ewm_mean_by("t", half_life="1h")), FAST)
        fns["sw_f"] = (
            lambda: scanwise.ewm_mean(y, times=times, halflife="1h", adjust=False, out=yout),
            FAST,
        )
    t = interleaved(fns)
    REC.add(label, "np.copyto", t["copy"], role="floor", size=n)
    if "pandas" in t:
        line(label, "pandas Series.ewm(times=).mean()", t["pandas"], t["sw"],
             f"  ({t['sw'] / t['copy']:.1f}x copy)", size=n)
    if "polars" in t:
        line(label + " adjust=False", "polars ewm_mean_by", t["polars"], t["sw_f"], size=n)

    # one long series (a pandas Series): a single dependency chain, no lanes to vectorise
    n1 = 200_000 if q else 1_000_000
    z = rng.standard_normal(n1)
    z[rng.random(n1) < 0.01] = np.nan
    z2 = z * 0.5 + rng.standard_normal(n1)
    zout = np.empty_like(z)
    one_series = [
        ("mean", lambda: scanwise.ewm_mean(z, alpha=0.05, out=zout), "mean", ()),
        ("var", lambda: scanwise.ewm_var(z, alpha=0.05, out=zout), "var", ()),
        ("std", lambda: scanwise.ewm_std(z, alpha=0.05, out=zout), "std", ()),
        ("cov", lambda: scanwise.ewm_cov(z, z2, alpha=0.05, out=zout), "cov", (z2,)),
        ("corr", lambda: scanwise.ewm_corr(z, z2, alpha=0.05, out=zout), "corr", (z2,)),
    ]
    zs = None if pd is None else pd.Series(z)
    # the copy floor of one series (8 MB): far below a scan that is one dependency chain
    t_zcopy = best_time(lambda: np.copyto(zout, z), repeat=FAST)
    for stat, sw_fn, method, other in one_series:
        t_sw = best_time(sw_fn, repeat=FAST)
        label = f"ewm_{stat} 1-D n={n1:.0e} 1% NaN"
        floor = f"  ({t_sw / t_zcopy:.1f}x copy)"
        if pd is not None:
            args = tuple(pd.Series(a) for a in other)
            t = best_time(lambda m=method, a=args: getattr(zs.ewm(alpha=0.05), m)(*a),
                          repeat=FAST)
            line(label, f"pandas Series.ewm().{method}()", t, t_sw, floor, size=n1)
            REC.add(label, "np.copyto", t_zcopy, role="floor", size=n1)
        else:
            REC.add(label, "scanwise", t_sw, role="scanwise", size=n1)
            print(f"{label:<40} scanwise {t_sw:8.4f}s", flush=True)

    # narrow DataFrames, passed as they are: pandas keeps their columns F-ordered (time is
    # the fast axis), which scanwise scans one lane per task
    if pd is not None:
        n_el = 400_000 if q else 2_000_000
        for m in (2, 8, 64):
            xd = rng.standard_normal((n_el // m, m))
            xd[rng.random(xd.shape) < 0.01] = np.nan
            frame = pd.DataFrame(xd)
            other = frame * 0.5 + 1.0
            label = f"DataFrame [{n_el // m}, {m}] 1% NaN"
            values = frame.to_numpy()
            copy_out = np.empty_like(values)
            t_copy = best_time(lambda v=values, c=copy_out: np.copyto(c, v), repeat=FAST)
            for stat in ("mean", "var", "corr"):
                if stat == "corr":
                    sw_fn = lambda f=frame, o=other: scanwise.ewm_corr(f, o, alpha=0.05)  # noqa: E731
                    pd_fn = lambda f=frame, o=other: f.ewm(alpha=0.05).corr(o, pairwise=False)  # noqa: E731
                else:
                    sw_fn = lambda f=frame, k=stat: getattr(scanwise, f"ewm_{k}")(f, alpha=0.05)  # noqa: E731
                    pd_fn = lambda f=frame, k=stat: getattr(f.ewm(alpha=0.05), k)()  # noqa: E731
                t_sw = best_time(sw_fn, repeat=FAST)
                t = best_time(pd_fn, repeat=FAST)
                line(f"ewm_{stat} {label}", f"pandas DataFrame.ewm().{stat}()", t, t_sw,
                     f"  ({t_sw / t_copy:.1f}x copy)", size=n_el)
                REC.add(f"ewm_{stat} {label}", "np.copyto", t_copy, role="floor", size=n_el)

    # small series: the cost of a call (validation, layout, state), not of the scan
    calls = 200
    small = rng.standard_normal(1000)
    small[rng.random(1000) < 0.01] = np.nan

    def per_call(fn) -> float:
        return best_time(lambda: [fn() for _ in range(calls)], repeat=FAST) / calls

    for stat in ("mean", "var"):
        sw_fn = getattr(scanwise, f"ewm_{stat}")
        t_sw = per_call(lambda f=sw_fn: f(small, alpha=0.05))
        label = f"ewm_{stat} n=1000 (per call)"
        # (peer, its time, scanwise's time on the same input: a pandas Series for pandas)
        peers = []
        if pd is not None:
            ss = pd.Series(small)
            peers.append((f"pandas Series.ewm().{stat}()",
                          per_call(lambda s=ss, k=stat: getattr(s.ewm(alpha=0.05), k)()),
                          per_call(lambda f=sw_fn, s=ss: f(s, alpha=0.05))))
        if pl is not None:
            ps = pl.Series(small).fill_nan(None)
            peers.append((f"polars Series.ewm_{stat}()",
                          per_call(lambda s=ps, k=stat: getattr(s, f"ewm_{k}")(alpha=0.05)),
                          t_sw))
        if numbagg is not None:
            nb_fn = getattr(numbagg, f"move_exp_nan{stat}")
            peers.append((f"numbagg move_exp_nan{stat}",
                          per_call(lambda f=nb_fn: f(small, alpha=0.05)), t_sw))
        if not peers:
            print(f"{label:<40} scanwise {t_sw * 1e6:8.1f} us", flush=True)
        REC.add(label, "scanwise", t_sw, role="scanwise", size=1000)
        for name, t, t_own in peers:
            REC.add(label, name, t, role="peer", size=1000)
            if t_own is not t_sw:
                REC.add(label, "scanwise on the pandas Series", t_own, role="variant", size=1000)
            on = " (on the Series)" if name.startswith("pandas") else ""
            print(f"{label:<40} {name:<30} {t * 1e6:7.1f}us  "
                  f"scanwise {t_own * 1e6:7.1f}us  speed-up {t / t_own:6.1f}x{on}", flush=True)

    sweep(rng, q, pd, pl, numbagg)
    REC.save()


def sweep(rng, quick, pd, pl, numbagg) -> None:
    """Time against size: ewm_mean along axis 0 of [n, 100] (1% NaN) for growing n, beside
    pandas, polars, numbagg and the copy floor (the plots of the Performance page)."""
    rows = (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    for n in rows:
        x = rng.standard_normal((n, 100))
        x[rng.random(x.shape) < 0.01] = np.nan
        out = np.empty_like(x)
        calls = max(5, 2_000_000 // x.size)
        case, series = f"sweep ewm_mean [{n}, 100] 1% NaN", "ewm_mean [n, 100]"
        fns = {"scanwise": (lambda x=x, o=out: scanwise.ewm_mean(x, axis=0, alpha=0.05, out=o),
                            calls),
               "np.copyto": (lambda x=x, o=out: np.copyto(o, x), calls)}
        if pd is not None:
            df = pd.DataFrame(x)
            fns["pandas DataFrame.ewm().mean()"] = (lambda df=df: df.ewm(alpha=0.05).mean(),
                                                    max(3, calls // 10))
        if pl is not None:
            pf = pl.DataFrame(x).fill_nan(None)
            fns["polars ewm_mean"] = (lambda f=pf: f.select(pl.all().ewm_mean(alpha=0.05)),
                                      calls)
        if numbagg is not None:
            fns["numbagg move_exp_nanmean"] = (
                lambda x=x: numbagg.move_exp_nanmean(x, axis=0, alpha=0.05), calls)
        t = interleaved(fns)
        for name, value in t.items():
            role = {"scanwise": "scanwise", "np.copyto": "floor"}.get(name, "peer")
            REC.add(case, name, value, role=role, size=x.size, series=series)
        print(f"{case:<40} " + "  ".join(f"{k} {v:.5f}s" for k, v in t.items()), flush=True)

if __name__ == "__main__":
    main()
