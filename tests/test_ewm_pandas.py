"""EWM family against pandas itself (the semantic oracle) and the reference loop."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ewm_data import DECAYS, with_nans

import scanwise
from scanwise import reference

pd = pytest.importorskip("pandas")

RTOL = 1e-10
GRID = list(itertools.product(range(len(DECAYS)), [True, False], [True, False], [0, 1, 4]))


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, strict=False)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize(("decay", "adjust", "ignore_na", "min_periods"), GRID)
def test_mean_var_std_match_pandas(decay, adjust, ignore_na, min_periods):
    rng = np.random.default_rng(hash((decay, adjust, ignore_na, min_periods)) % 2**32)
    x = with_nans(rng, 240, 10)  # the lane loop; its columns alone: tasks of one lane
    kw = dict(DECAYS[decay], adjust=adjust, ignore_na=ignore_na, min_periods=min_periods)
    ewm = pd.DataFrame(x).ewm(**kw)
    close(scanwise.ewm_mean(x, axis=0, **kw), ewm.mean().to_numpy())
    for bias in (False, True):
        for stat in ("var", "std"):
            want = getattr(ewm, stat)(bias=bias).to_numpy()
            fn = getattr(scanwise, f"ewm_{stat}")
            close(fn(x, axis=0, bias=bias, **kw), want)
            close(fn(x[:, 1], bias=bias, **kw), want[:, 1])  # (leading NaNs)


@pytest.mark.parametrize(("decay", "adjust", "ignore_na", "min_periods"), GRID)
def test_cov_corr_match_pandas_pairwise(decay, adjust, ignore_na, min_periods):
    rng = np.random.default_rng(hash((decay, adjust, ignore_na, min_periods, 1)) % 2**32)
    x = with_nans(rng, 150, 10)  # the lane loop; its columns alone: tasks of one lane
    y = 0.5 * x + rng.standard_normal(x.shape)
    y[rng.random(y.shape) < 0.15] = np.nan  # NaNs in y where x has values too
    kw = dict(DECAYS[decay], adjust=adjust, ignore_na=ignore_na, min_periods=min_periods)
    got_cov = {b: scanwise.ewm_cov(x, y, axis=0, bias=b, **kw) for b in (False, True)}
    got_corr = scanwise.ewm_corr(x, y, axis=0, **kw)
    one = 2  # a long gap, random NaNs in both
    narrow_cov = {b: scanwise.ewm_cov(x[:, one], y[:, one], bias=b, **kw) for b in (False, True)}
    narrow_corr = scanwise.ewm_corr(x[:, one], y[:, one], **kw)
    for c in range(x.shape[1]):
        ewm = pd.Series(x[:, c]).ewm(**kw)
        for b in (False, True):
            want = ewm.cov(pd.Series(y[:, c]), bias=b).to_numpy()
            close(got_cov[b][:, c], want)
            if c == one:
                close(narrow_cov[b], want)
        want = ewm.corr(pd.Series(y[:, c])).to_numpy()
        close(got_corr[:, c], want, rtol=1e-9)
        if c == one:
            close(narrow_corr, want, rtol=1e-9)


@pytest.mark.parametrize("stat", ["mean", "var", "std", "cov", "corr"])
@pytest.mark.parametrize(("decay", "adjust", "ignore_na"), list(itertools.product(
    range(len(DECAYS)), [True, False], [True, False])))
def test_reference_loop_matches_pandas(stat, decay, adjust, ignore_na):
    """Anchor the reference to pandas, so the tests that pandas cannot do rest on it."""
    rng = np.random.default_rng(7)
    x = with_nans(rng, 80, 6)[:, 2]
    y = x * 0.3 + rng.standard_normal(80)
    kw = dict(DECAYS[decay], adjust=adjust, ignore_na=ignore_na, min_periods=2)
    ewm = pd.Series(x).ewm(**kw)
    want = {
        "mean": lambda: ewm.mean(),
        "var": lambda: ewm.var(),
        "std": lambda: ewm.std(),
        "cov": lambda: ewm.cov(pd.Series(y)),
        "corr": lambda: ewm.corr(pd.Series(y)),
    }[stat]().to_numpy()
    alpha = 1.0 / (1.0 + ewm._com)  # pandas' own conversion, so the reference is independent
    got = reference.ewm(
        x, y if stat in ("cov", "corr") else None, stat=stat, alpha=alpha, adjust=adjust,
        ignore_na=ignore_na, min_periods=2,
    )
    close(got, want, rtol=1e-12)


def test_constant_series_has_exactly_zero_variance():
    x = np.full(5000, 1234567.891)
    x[[10, 11, 500]] = np.nan
    for adjust in (True, False):
        var = scanwise.ewm_var(x, alpha=0.01, adjust=adjust)
        assert np.isnan(var[0]) and np.all(var[1:] == 0.0)
        assert np.all(scanwise.ewm_var(x, alpha=0.01, adjust=adjust, bias=True) == 0.0)
        assert np.all(scanwise.ewm_std(x, span=3, adjust=adjust)[1:] == 0.0)
        assert np.all(scanwise.ewm_mean(x, alpha=0.3, adjust=adjust) == 1234567.891)


def test_variance_never_negative(rng):
    x = 1e8 + rng.standard_normal((3000, 20)) * 1e-3
    assert (scanwise.ewm_var(x, axis=0, alpha=0.05, bias=True) >= 0).all()


def test_float32_stays_float32_and_accurate(rng):
    x = (rng.standard_normal((5000, 3)) * 10 + 3).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    ewm = pd.DataFrame(x.astype(np.float64)).ewm(alpha=0.02)
    for name, want in [("ewm_mean", ewm.mean()), ("ewm_var", ewm.var()), ("ewm_std", ewm.std())]:
        got = getattr(scanwise, name)(x, axis=0, alpha=0.02)
        assert got.dtype == np.float32
        close(got, want.to_numpy(), rtol=1e-5)
    corr = scanwise.ewm_corr(x[:, 0], x[:, 1], alpha=0.02)
    assert corr.dtype == np.float32


def test_ints_and_bools_give_float64():
    got = scanwise.ewm_mean(np.arange(10), alpha=0.5)
    assert got.dtype == np.float64
    close(got, pd.Series(np.arange(10.0)).ewm(alpha=0.5).mean().to_numpy())
    assert scanwise.ewm_var(np.array([True, False, True]), alpha=0.5).dtype == np.float64


def test_segments_equal_groupby_ewm(rng):
    n_t = 400
    key = np.sort(rng.integers(0, 9, n_t))
    x = rng.standard_normal((n_t, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    reset = np.r_[True, key[1:] != key[:-1]]
    df = pd.DataFrame(x)
    for adjust, ignore_na in itertools.product([True, False], [True, False]):
        kw = dict(alpha=0.2, adjust=adjust, ignore_na=ignore_na, min_periods=2)
        grouped = df.groupby(key).ewm(**kw)
        close(
            scanwise.ewm_mean(x, axis=0, reset=reset[:, None], **kw),
            grouped.mean().to_numpy(),
        )
        close(scanwise.ewm_var(x, axis=0, reset=reset[:, None], **kw), grouped.var().to_numpy())


def test_times_mean_matches_pandas(rng):
    n_t = 500
    steps = rng.exponential(5, n_t).round(3)
    steps[rng.random(n_t) < 0.1] = 0.0  # repeated timestamps
    times = pd.Timestamp("2024-03-01") + pd.to_timedelta(np.cumsum(steps), unit="min")
    x = with_nans(rng, n_t, 6)
    for halflife in ["15min", np.timedelta64(15, "m"), pd.Timedelta(minutes=15)]:
        for adjust, ignore_na in itertools.product([True, False], [True, False]):
            kw = dict(halflife=halflife, adjust=adjust, ignore_na=ignore_na)
            want = pd.DataFrame(x).ewm(times=times, **kw).mean().to_numpy()
            close(scanwise.ewm_mean(x, axis=0, times=times, **kw), want)
            close(scanwise.ewm_mean(x, axis=0, times=np.asarray(times), **kw), want)


def test_times_with_timezone_and_units(rng):
    times = pd.date_range("2024-01-01", periods=50, freq="7min", tz="Europe/Paris")
    times = times + pd.to_timedelta(rng.integers(0, 5, 50).cumsum(), unit="min")
    x = rng.standard_normal(50)
    want = pd.Series(x).ewm(halflife="1h", times=times).mean().to_numpy()
    close(scanwise.ewm_mean(x, times=times, halflife="1h"), want)
    secs = np.asarray(times.tz_convert(None)).astype("datetime64[s]")
    close(scanwise.ewm_mean(x, times=secs, halflife=np.timedelta64(3600, "s")), want)


@pytest.mark.parametrize("stat", ["var", "std", "cov", "corr", "mean"])
@pytest.mark.parametrize(
    ("adjust", "ignore_na"), list(itertools.product([True, False], [True, False]))
)
def test_times_numeric_all_stats_match_reference(rng, stat, adjust, ignore_na):
    """pandas has times for the mean only; the reference loop covers the rest."""
    n_t = 300
    times = np.cumsum(rng.exponential(1.0, n_t))
    x = with_nans(rng, n_t, 6)
    y = x + rng.standard_normal(x.shape)
    kw = dict(halflife=2.0, adjust=adjust, ignore_na=ignore_na, min_periods=3)
    fn = getattr(scanwise, f"ewm_{stat}")
    args = (x, y) if stat in ("cov", "corr") else (x,)
    got = fn(*args, axis=0, times=times, **kw)
    decay = np.r_[1.0, 0.5 ** (np.diff(times) / 2.0)]
    for c in range(x.shape[1]):
        want = reference.ewm(
            x[:, c], y[:, c] if stat in ("cov", "corr") else None, stat=stat, alpha=0.5,
            adjust=adjust, ignore_na=ignore_na, min_periods=3, decay=decay,
        )
        close(got[:, c], want, rtol=1e-9)


def test_layouts_and_axes_match_pandas(rng):
    x = with_nans(rng, 120, 6)
    want = pd.DataFrame(x).ewm(span=5).var().to_numpy()
    cube = np.stack([x, x[:, ::-1]], axis=0)  # (2, T, 6)
    want_cube = np.stack([want, want[:, ::-1]], axis=0)
    for arr, axis, ref in [
        (np.asfortranarray(x), 0, want),
        (np.ascontiguousarray(x.T), 1, want.T),
        (x[::-1][::-1], 0, want),
        (cube, 1, want_cube),
        (np.asfortranarray(cube), -2, want_cube),
        (np.moveaxis(cube, 1, 2), 2, np.moveaxis(want_cube, 1, 2)),
    ]:
        before = arr.copy()
        close(scanwise.ewm_var(arr, axis=axis, span=5), ref)
        np.testing.assert_array_equal(arr, before)


def test_out_and_in_place(rng):
    x = with_nans(rng, 100, 4)
    want = pd.DataFrame(x).ewm(alpha=0.1).mean().to_numpy()
    out = np.empty_like(x)
    assert scanwise.ewm_mean(x, axis=0, alpha=0.1, out=out) is out
    close(out, want)
    y = x.copy()
    scanwise.ewm_mean(y, axis=0, alpha=0.1, out=y)
    close(y, want)
    out32 = np.empty(x.shape, dtype=np.float32)
    scanwise.ewm_mean(x, axis=0, alpha=0.1, out=out32)
    close(out32, want, rtol=1e-6)


def test_infinities_are_missing_values_as_in_pandas(rng):
    x = with_nans(rng, 120, 4)
    x[rng.random(x.shape) < 0.05] = np.inf
    x[rng.random(x.shape) < 0.05] = -np.inf
    y = rng.standard_normal(x.shape)
    for kw in [{"alpha": 0.2}, {"span": 4, "adjust": False, "ignore_na": True}]:
        ewm = pd.DataFrame(x).ewm(**kw)
        close(scanwise.ewm_mean(x, axis=0, **kw), ewm.mean().to_numpy())
        close(scanwise.ewm_var(x, axis=0, **kw), ewm.var().to_numpy())
        for c in range(4):
            want = pd.Series(x[:, c]).ewm(**kw).corr(pd.Series(y[:, c])).to_numpy()
            close(scanwise.ewm_corr(x[:, c], y[:, c], **kw), want, rtol=1e-9)


@pytest.mark.parametrize("chunk", [5, 23])
@pytest.mark.parametrize(("ignore_na", "min_periods"), [(False, 0), (True, 3), (False, 5)])
def test_chunk_parallel_mean_matches_pandas(small_chunks, rng, ignore_na, min_periods, chunk):
    """Few long series take the num/den chunk-parallel path (tiny chunks here; a task
    walks four chunks of ``CHUNK // 4`` steps interleaved, the last group one by one)."""
    small_chunks.CHUNK = chunk
    n_t = 97
    x = with_nans(rng, n_t, 3)
    x[5, 0] = np.inf
    kw = dict(alpha=0.15, ignore_na=ignore_na, min_periods=min_periods)
    close(scanwise.ewm_mean(x, axis=0, **kw), pd.DataFrame(x).ewm(**kw).mean().to_numpy())
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n_t).cumsum(), "s")
    kw = dict(halflife="1min", times=times, ignore_na=ignore_na, min_periods=min_periods)
    close(scanwise.ewm_mean(x, axis=0, **kw), pd.DataFrame(x).ewm(**kw).mean().to_numpy())
    # segments and streaming through the same path
    key = np.sort(rng.integers(0, 5, n_t))
    reset = np.r_[True, key[1:] != key[:-1]]
    kw = dict(alpha=0.15, ignore_na=ignore_na, min_periods=min_periods)
    want = pd.DataFrame(x).groupby(key).ewm(**kw).mean().to_numpy()
    close(scanwise.ewm_mean(x, axis=0, reset=reset[:, None], **kw), want)
    head, state = scanwise.ewm_mean(x[:40], axis=0, return_state=True, **kw)
    tail = scanwise.ewm_mean(x[40:], axis=0, state=state, **kw)
    close(np.concatenate([head, tail]), pd.DataFrame(x).ewm(**kw).mean().to_numpy())
