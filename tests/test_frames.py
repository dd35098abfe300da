"""pandas and polars objects in and out of every public function; polars parity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import scanwise

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")


def _df(rng, n_t=30):
    idx = pd.date_range("2024-01-01", periods=n_t, freq="h", name="when")
    return pd.DataFrame(rng.standard_normal((n_t, 3)), index=idx, columns=["a", "b", "c"])


def test_pandas_dataframe_keeps_index_and_columns(rng):
    df = _df(rng)
    df.iloc[3, 1] = np.nan
    for fn, want in [
        (lambda d: scanwise.cumsum(d), df.cumsum(skipna=False)),
        (lambda d: scanwise.cumprod(d), df.cumprod(skipna=False)),
        (lambda d: scanwise.ewm_mean(d, span=4), df.ewm(span=4).mean()),
        (lambda d: scanwise.ewm_var(d, span=4, bias=True), df.ewm(span=4).var(bias=True)),
        (lambda d: scanwise.ewm_std(d, alpha=0.2), df.ewm(alpha=0.2).std()),
    ]:
        got = fn(df)
        assert isinstance(got, pd.DataFrame)
        pd.testing.assert_frame_equal(got, want, rtol=1e-12)


def test_pandas_series_keeps_name_and_index(rng):
    s = _df(rng)["a"].rename("price")
    other = _df(rng)["b"]
    pd.testing.assert_series_equal(scanwise.cumsum(s), s.cumsum())
    pd.testing.assert_series_equal(scanwise.ewm_mean(s, com=2), s.ewm(com=2).mean())
    pd.testing.assert_series_equal(
        scanwise.ewm_cov(s, other, com=2), s.ewm(com=2).cov(other), rtol=1e-12, check_names=False
    )
    pd.testing.assert_series_equal(
        scanwise.ewm_corr(s, other, com=2), s.ewm(com=2).corr(other), rtol=1e-12, check_names=False
    )
    got = scanwise.discounted_cumsum(s, 0.9, reverse=True)
    assert isinstance(got, pd.Series) and got.name == "price" and got.index.equals(s.index)
    want = scanwise.discounted_cumsum(s.to_numpy(), 0.9, reverse=True)
    np.testing.assert_array_equal(got.to_numpy(), want)
    got = scanwise.logcumsumexp(s)
    np.testing.assert_allclose(got.to_numpy(), np.logaddexp.accumulate(s.to_numpy()))
    got = scanwise.linear_recurrence(0.5, s)
    assert isinstance(got, pd.Series) and got.name == "price"


def test_times_from_the_index_and_reset_as_a_series(rng):
    n_t = 60
    idx = pd.DatetimeIndex(
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(1, 90, n_t).cumsum(), "min")
    )
    df = pd.DataFrame(rng.standard_normal((n_t, 2)), index=idx, columns=["x", "y"])
    got = scanwise.ewm_mean(df, halflife="30min", times=df.index)
    pd.testing.assert_frame_equal(got, df.ewm(halflife="30min", times=df.index).mean())
    paris = df.tz_localize("UTC").tz_convert("Europe/Paris")  # a tz-aware index
    got = scanwise.ewm_mean(paris, halflife="30min", times=paris.index)
    pd.testing.assert_frame_equal(got, paris.ewm(halflife="30min", times=paris.index).mean())
    seg = pd.Series(np.repeat([1, 2, 3], 20), index=idx)
    reset = seg.ne(seg.shift())
    got = scanwise.ewm_mean(df, alpha=0.3, reset=reset)
    want = df.groupby(seg.to_numpy()).ewm(alpha=0.3).mean().droplevel(0)
    pd.testing.assert_frame_equal(got, want)
    got = scanwise.cumsum(df, reset=reset)
    want = df.groupby(seg.to_numpy()).cumsum()
    pd.testing.assert_frame_equal(got, want)


def test_pandas_nullable_and_initial_per_column(rng):
    s = pd.Series([1.0, None, 3.0], dtype="Float64", name="n")
    got = scanwise.ewm_mean(s, alpha=0.5)
    want = pd.Series([1.0, np.nan, 3.0]).ewm(alpha=0.5).mean()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())
    df = _df(rng, 5)
    got = scanwise.cumsum(df, initial=pd.Series([1.0, 2.0, 3.0], index=df.columns))
    pd.testing.assert_frame_equal(got, df.cumsum() + [1.0, 2.0, 3.0])


def test_polars_series_and_dataframe(rng):
    x = rng.standard_normal((40, 3))
    df = pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    got = scanwise.ewm_mean(df, alpha=0.1)
    assert isinstance(got, pl.DataFrame) and got.columns == ["a", "b", "c"]
    np.testing.assert_allclose(got.to_numpy(), scanwise.ewm_mean(x, axis=0, alpha=0.1))
    s = df["b"]
    got = scanwise.cumsum(s)
    assert isinstance(got, pl.Series) and got.name == "b"
    np.testing.assert_array_equal(got.to_numpy(), np.cumsum(x[:, 1]))
    got = scanwise.ewm_corr(df["a"], df["b"], span=5)
    assert isinstance(got, pl.Series)


@pytest.mark.parametrize(
    ("adjust", "ignore_na", "bias", "min_periods"),
    list(itertools.product([True, False], [True, False], [True, False], [1, 3])),
)
def test_polars_parity(rng, adjust, ignore_na, bias, min_periods):
    """polars' EWM: same numbers where it has a value (it leaves nulls at missing steps)."""
    x = rng.standard_normal(200) * 3 + 1
    x[rng.random(200) < 0.15] = np.nan
    s = pl.Series("x", x).fill_nan(None)
    present = ~np.isnan(x)
    for decay in [{"alpha": 0.2}, {"span": 5.0}, {"com": 2.0}, {"half_life": 3.0}]:
        ours = {("half_life" if k == "half_life" else k).replace("half_life", "halflife"): v
                for k, v in decay.items()}
        kw = dict(adjust=adjust, ignore_nulls=ignore_na, min_samples=min_periods)
        our_kw = dict(adjust=adjust, ignore_na=ignore_na, min_periods=min_periods)
        pairs = [
            (s.ewm_mean(**decay, **kw), scanwise.ewm_mean(x, **ours, **our_kw)),
            (s.ewm_var(**decay, bias=bias, **kw), scanwise.ewm_var(x, bias=bias, **ours, **our_kw)),
            (s.ewm_std(**decay, bias=bias, **kw), scanwise.ewm_std(x, bias=bias, **ours, **our_kw)),
        ]
        for theirs, got in pairs:
            want = theirs.to_numpy().astype(float)
            np.testing.assert_allclose(got[present], want[present], rtol=1e-9, equal_nan=True)


def test_times_adjust_false_is_polars_ewm_mean_by(rng):
    n_t = 300
    t = np.datetime64("2024-01-01T00:00") + rng.integers(0, 600, n_t).cumsum().astype("m8[s]")
    t = t.astype("datetime64[us]")
    x = rng.standard_normal(n_t)
    frame = pl.DataFrame({"t": t, "x": x})
    want = frame.select(pl.col("x").ewm_mean_by("t", half_life="5m"))["x"].to_numpy()
    got = scanwise.ewm_mean(x, times=t, halflife="5min", adjust=False)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got = scanwise.ewm_mean(frame["x"], times=frame["t"], halflife=np.timedelta64(5, "m"),
                            adjust=False)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12)


def test_frame_specific_errors(rng):
    df = _df(rng)
    with pytest.raises(ValueError, match="axis"):
        scanwise.cumsum(df, axis=1)
    with pytest.raises(ValueError, match="include_initial"):
        scanwise.cumsum(df, include_initial=True)
    with pytest.raises(ValueError, match="out"):
        scanwise.ewm_mean(df, alpha=0.5, out=np.empty(df.shape))
    with pytest.raises(TypeError, match="column 's' of x has dtype"):
        scanwise.cumsum(pd.DataFrame({"s": ["a", "b"]}))
