"""``out=``, in-place, aliasing, the chunk-parallel path and thread-count invariance."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scanwise
from scanwise import reference


def test_out_preallocated_and_in_place(rng):
    x = rng.standard_normal((50, 40))
    want = np.cumsum(x, axis=0)
    out = np.full_like(x, np.nan)
    assert scanwise.cumsum(x, axis=0, out=out) is out
    np.testing.assert_array_equal(out, want)
    y = x.copy()
    assert scanwise.cumsum(y, axis=0, out=y) is y
    np.testing.assert_array_equal(y, want)
    z = x.copy()
    scanwise.discounted_cumsum(z, 0.9, axis=1, reverse=True, out=z)
    np.testing.assert_array_equal(z, reference.discounted_cumsum(x, 0.9, axis=1, reverse=True))


def test_out_overlapping_input_is_safe(rng):
    x = rng.standard_normal(20)
    buf = np.concatenate([x, np.zeros(1)])
    scanwise.cumsum(buf[:-1], out=buf[1:])  # shifted overlap: must read x before writing
    np.testing.assert_array_equal(buf[1:], np.cumsum(x))
    y = x.copy()
    scanwise.cumsum(y[::-1], out=y)  # reversed overlap
    np.testing.assert_array_equal(y, np.cumsum(x[::-1]))


def test_out_dtype_cast_and_include_initial(rng):
    x = rng.integers(0, 10, (6, 4))
    out = np.empty((7, 4), dtype=np.float64)
    scanwise.cumsum(x, axis=0, include_initial=True, out=out)
    np.testing.assert_array_equal(out, np.cumulative_sum(x, axis=0, include_initial=True))


def test_inputs_never_modified(rng):
    a = rng.uniform(0, 1, (9, 8))
    b = rng.standard_normal((9, 8))
    reset = rng.random((9, 8)) < 0.3
    init = rng.standard_normal(8)
    copies = [v.copy() for v in (a, b, reset, init)]
    scanwise.linear_recurrence(a, b, axis=0, reset=reset, initial=init, reverse=True)
    for v, c in zip((a, b, reset, init), copies, strict=True):
        np.testing.assert_array_equal(v, c)


@given(
    st.data(), st.integers(1, 60), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans()
)
def test_chunked_path_matches_reference(data, n, series, reverse, use_reset, use_init):
    from scanwise import _layout

    old = (_layout.CHUNKED_MIN_T, _layout.CHUNK)
    _layout.CHUNKED_MIN_T, _layout.CHUNK = 8, data.draw(st.integers(1, 9))
    try:
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        b = rng.standard_normal((n, series))
        a = rng.uniform(-1, 1, (n, series)) if data.draw(st.booleans()) else 0.7
        reset = rng.random((n, series)) < 0.2 if use_reset else None
        init = rng.standard_normal(series) if use_init else None
        got = scanwise.linear_recurrence(a, b, axis=0, reset=reset, initial=init, reverse=reverse)
        want = reference.linear_recurrence(a, b, axis=0, reset=reset, initial=init, reverse=reverse)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        x = rng.integers(-50, 50, (n, series))
        np.testing.assert_array_equal(
            scanwise.cumsum(x, axis=0, reset=reset), reference.cumsum(x, axis=0, reset=reset)
        )
    finally:
        _layout.CHUNKED_MIN_T, _layout.CHUNK = old


def test_chunked_path_nan_before_reset_does_not_leak(small_chunks):
    x = np.array([1.0, np.inf, np.nan, 2.0, 3.0, np.inf, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    reset = np.zeros(x.shape, bool)
    reset[[3, 6]] = True
    want = reference.cumsum(x, reset=reset)
    np.testing.assert_array_equal(scanwise.cumsum(x, reset=reset), want)
    np.testing.assert_array_equal(
        scanwise.cumprod(x, reset=reset), reference.cumprod(x, reset=reset)
    )


@pytest.mark.parametrize("chunked", [False, True])
def test_thread_count_invariance(rng, monkeypatch, chunked):
    from scanwise import _layout

    if chunked:
        monkeypatch.setattr(_layout, "CHUNKED_MIN_T", 1000)
    x = rng.standard_normal((20000,))
    m = rng.standard_normal((300, 70))
    reset = rng.random(x.shape) < 0.01
    calls = [
        lambda: scanwise.cumsum(x),
        lambda: scanwise.discounted_cumsum(x, 0.99, reverse=True, reset=reset),
        lambda: scanwise.cumsum(m, axis=0),
        lambda: scanwise.cumsum(m, axis=1),
        lambda: scanwise.logcumsumexp(m, axis=1),
    ]
    n = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    try:
        single = [f() for f in calls]
    finally:
        numba.set_num_threads(n)
    for f, s in zip(calls, single, strict=True):
        np.testing.assert_array_equal(f(), s)


def test_long_series_chunked_is_close_and_bitwise_elsewhere(rng):
    from scanwise import _layout

    x = rng.standard_normal(_layout.CHUNKED_MIN_T + 12345)
    got = scanwise.cumsum(x)
    np.testing.assert_allclose(got, np.cumsum(x), rtol=1e-9, atol=1e-9)
    short = x[: _layout.CHUNKED_MIN_T - 1]
    np.testing.assert_array_equal(scanwise.cumsum(short), np.cumsum(short))
    many = rng.standard_normal((5, _layout.CHUNKED_MIN_T + 7))
    np.testing.assert_array_equal(scanwise.cumsum(many, axis=1), np.cumsum(many, axis=1))


def test_concurrent_first_calls_from_threads():
    """Kernels are compiled (or loaded) lazily; threads calling at once must all work."""
    from concurrent.futures import ThreadPoolExecutor

    from scanwise._kernels import jit

    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 6))
    jobs = [
        lambda: (scanwise.cumsum(x, axis=0), np.cumsum(x, axis=0)),
        lambda: (scanwise.cumsum(x.astype(np.float32), axis=1),
                 np.cumsum(x.astype(np.float32), axis=1)),
        lambda: (scanwise.cumprod(np.asfortranarray(x), axis=0), np.cumprod(x, axis=0)),
        lambda: (scanwise.logcumsumexp(x[::-1], axis=0),
                 np.logaddexp.accumulate(x[::-1], axis=0)),
        lambda: (scanwise.cumsum(x.astype(np.int32), axis=0, reverse=True),
                 np.cumsum(x.astype(np.int32)[::-1], axis=0)[::-1]),
    ] * 4
    # forget the signatures this process knows, so the threads race to compile or load
    for name in ("linear", "logspace"):
        module = __import__(f"scanwise._kernels.scans.{name}", fromlist=["x"])
        for value in vars(module).values():
            if isinstance(value, jit.kernel):
                value._entries.clear()
    with ThreadPoolExecutor(8) as pool:
        for got, want in pool.map(lambda job: job(), jobs):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_import_compiles_nothing_and_skips_numba():
    """``import scanwise`` stays light: no numba, pandas, dask or torch import."""
    import subprocess
    import sys

    code = (
        "import sys, scanwise; "
        "print(sorted(m for m in ('numba', 'pandas', 'polars', 'dask', 'torch', 'xarray') "
        "if m in sys.modules))"
    )
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "[]"


def test_building_dask_graphs_needs_no_kernels():
    """Graph construction validates on the client without numba (it is imported by the
    tasks that compute); the graphs still compute the NumPy results."""
    import subprocess
    import sys

    pytest.importorskip("dask.array")
    code = """
import sys
sys.modules["numbagg"] = None  # dask.array imports numbagg (and numba) when installed
import numpy as np, dask.array as da, scanwise
x = da.from_array(np.linspace(0.1, 1.0, 40).reshape(20, 2), chunks=(7, 2))
r = x > 0.8
lazy = [
    scanwise.cumsum(x, axis=0, reset=r, initial=np.ones(2), reset_value=np.zeros(2)),
    scanwise.cumprod(x, axis=0), scanwise.logcumsumexp(x, axis=0, reverse=True),
    scanwise.discounted_cumsum(x, 0.9, axis=0), scanwise.linear_recurrence(x, x, axis=0),
    scanwise.ewm_mean(x, span=3, axis=0), scanwise.ewm_var(x, span=3, axis=0),
    scanwise.ewm_corr(x, x[::-1], span=3, axis=0),
    scanwise.ewm_mean(x, halflife=2.0, times=np.arange(20.0), axis=0),
    *scanwise.gae(x, x, x, terminated=r, discount=0.9, lam=0.9),
    scanwise.discounted_returns(x, discount=0.9, done=r),
]
print('numba' in sys.modules)
import dask
xn, rn = x.compute(), r.compute()
eager = [
    scanwise.cumsum(xn, axis=0, reset=rn, initial=np.ones(2), reset_value=np.zeros(2)),
    scanwise.cumprod(xn, axis=0), scanwise.logcumsumexp(xn, axis=0, reverse=True),
    scanwise.discounted_cumsum(xn, 0.9, axis=0), scanwise.linear_recurrence(xn, xn, axis=0),
    scanwise.ewm_mean(xn, span=3, axis=0), scanwise.ewm_var(xn, span=3, axis=0),
    scanwise.ewm_corr(xn, xn[::-1], span=3, axis=0),
    scanwise.ewm_mean(xn, halflife=2.0, times=np.arange(20.0), axis=0),
    *scanwise.gae(xn, xn, xn, terminated=rn, discount=0.9, lam=0.9),
    scanwise.discounted_returns(xn, discount=0.9, done=rn),
]
for got, want in zip(dask.compute(*lazy, scheduler="sync"), eager, strict=True):
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
print('computed', len(eager))
"""
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["False", "computed", "12"], got.stdout + got.stderr
