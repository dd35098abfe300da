"""Inputs at the edges (issue 19's review): labelled EWM states, step flags that would be
broadcast along time, labelled coefficients in another order, non-numeric pandas
columns, weak Python-number states, tensor flags and times, polars ``reset_value``.

Oracles: pandas and polars themselves, NumPy's promotion rules, loops in the tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scanwise

pd = pytest.importorskip("pandas")


def _frame(seed, n_t, columns):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_t, len(columns)))
    data[rng.random(data.shape) < 0.1] = np.nan
    return pd.DataFrame(data, columns=columns)


# --- an EWMState continues the same columns, by label ----------------------------


@pytest.mark.parametrize("fn, method", [(scanwise.ewm_mean, "mean"), (scanwise.ewm_var, "var")])
def test_pandas_state_continues_reordered_columns_by_label(fn, method):
    df = _frame(1, 12, ["a", "b", "c"])
    want = getattr(df.ewm(span=4), method)()
    _, st = fn(df.iloc[:7], span=4, return_state=True)
    got = fn(df.iloc[7:][["c", "a", "b"]], span=4, state=st)
    assert list(got.columns) == ["c", "a", "b"]
    pd.testing.assert_frame_equal(got[["a", "b", "c"]], want.iloc[7:], rtol=1e-12)


def test_pandas_state_with_other_columns_is_refused():
    df = _frame(2, 8, ["a", "b"])
    _, st = scanwise.ewm_mean(df.iloc[:4], alpha=0.5, return_state=True)
    other = df.iloc[4:].rename(columns={"b": "z"})
    with pytest.raises(ValueError, match=r"state was made from columns \['a', 'b'\]"):
        scanwise.ewm_mean(other, alpha=0.5, state=st)
    # a NumPy continuation pairs by position, as arrays always do
    got = scanwise.ewm_mean(df.iloc[4:].to_numpy(), alpha=0.5, state=st, axis=0)
    np.testing.assert_allclose(got, df.ewm(alpha=0.5).mean().iloc[4:], rtol=1e-12)


def test_polars_state_continues_reordered_columns_by_label():
    pl = pytest.importorskip("polars")
    df = _frame(3, 10, ["u", "v"])
    want = df.ewm(com=2.0).mean().iloc[6:]
    pf = pl.from_pandas(df)
    _, st = scanwise.ewm_mean(pf[:6], com=2.0, return_state=True)
    got = scanwise.ewm_mean(pf[6:].select("v", "u"), com=2.0, state=st)
    assert got.columns == ["v", "u"]
    np.testing.assert_allclose(got.select("u", "v").to_numpy(), want.to_numpy(), rtol=1e-12)


def test_xarray_state_refuses_other_coords():
    xr = pytest.importorskip("xarray")
    df = _frame(4, 10, ["a", "b"])
    arr = xr.DataArray(df.to_numpy(), dims=("t", "s"), coords={"s": ["a", "b"]})
    _, st = scanwise.ewm_mean(arr[:5], span=3, dim="t", return_state=True)
    with pytest.raises(ValueError, match="state was made from a DataArray"):
        scanwise.ewm_mean(arr[5:, ::-1], span=3, dim="t", state=st)
    got = scanwise.ewm_mean(arr[5:], span=3, dim="t", state=st)
    np.testing.assert_allclose(got.values, df.ewm(span=3).mean().iloc[5:], rtol=1e-12)


# --- step flags are never broadcast along time -------------------------------------


@pytest.mark.parametrize("reset", [[True], True, np.array([1]), np.array(True)])
def test_a_single_flag_on_a_1d_input_is_refused(reset):
    x = np.ones(5)
    for call in (
        lambda: scanwise.cumsum(x, reset=reset),
        lambda: scanwise.ewm_mean(x, alpha=0.5, reset=reset),
        lambda: scanwise.discounted_returns(x, discount=0.9, done=reset),
        lambda: scanwise.cumsum(pd.Series(x), reset=reset),
    ):
        with pytest.raises(ValueError, match="does not span the time axis"):
            call()


def test_a_dask_reset_must_span_time():
    da = pytest.importorskip("dask.array")
    x = da.ones((6, 3), chunks=3)
    with pytest.raises(ValueError, match="reset with shape \\(3,\\) does not span"):
        scanwise.cumsum(x, axis=0, reset=da.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="does not span"):
        scanwise.ewm_mean(x, alpha=0.5, axis=0, reset=da.ones((1, 3), dtype=bool))
    flags = np.arange(6)[:, None] % 4 == 0
    got = scanwise.cumsum(x, axis=0, reset=da.from_array(flags, chunks=2)).compute()
    want = np.stack([np.array([1, 2, 3, 4, 1, 2.0])] * 3, axis=1)  # a loop's result
    np.testing.assert_array_equal(got, want)


def test_an_xarray_reset_needs_the_scan_dim():
    xr = pytest.importorskip("xarray")
    x = xr.DataArray(np.ones((4, 2)), dims=("t", "s"))
    for reset in (xr.DataArray(True), xr.DataArray([True, False], dims="s")):
        with pytest.raises(ValueError, match="without the scan dim 't'"):
            scanwise.cumsum(x, dim="t", reset=reset)
    got = scanwise.cumsum(x, dim="t", reset=xr.DataArray([0, 0, 1, 0], dims="t"))
    np.testing.assert_array_equal(got.values[:, 0], [1, 2, 1, 2])


def test_a_polars_literal_reset_is_refused_and_over_groups_interleave():
    pl = pytest.importorskip("polars")
    import scanwise.polars  # noqa: F401  (registers the namespace)

    df = pl.DataFrame({
        "x": [1.0, 2, 3, 4, 5, 6, 7],
        "r": [False, False, True, False, True, False, False],
        "g": ["a", "b", "a", "b", "a", "a", "b"],
    })
    for reset in (pl.lit(True), pl.col("r").first()):
        with pytest.raises(Exception, match="flags mark steps"):
            df.select(pl.col("x").scanwise.cumsum(reset=reset))
    got = df.select(pl.col("x").scanwise.cumsum(reset="r").over("g"))["x"].to_list()
    # polars' own grouped cumulative sum over segments (segment = cum_sum of resets)
    seg = pl.col("r").cast(pl.Int32).cum_sum().over("g")
    want = df.select(pl.col("x").cum_sum().over(["g", seg]))["x"].to_list()
    assert got == want


# --- non-numeric pandas columns ----------------------------------------------------


@pytest.mark.parametrize("column", [
    ["1", "2", "3"],
    pd.Categorical([1.0, 2.0, 3.0]),
    pd.array(["1", "2", "3"], dtype="string"),
    pd.date_range("2024-01-01", periods=3),
    pd.to_timedelta([1, 2, 3], unit="s"),
    np.array([1.0, 2.0, 3.0], dtype=object),
])
def test_non_numeric_pandas_columns_are_refused_by_name(column):
    df = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "bad": column})
    with pytest.raises(TypeError, match="column 'bad' of x has dtype"):
        scanwise.ewm_mean(df, alpha=0.5)
    with pytest.raises(TypeError, match=r"x \(Series 'bad'\) has dtype"):
        scanwise.cumsum(df["bad"])
    with pytest.raises(TypeError, match=r"reset \(Series 'bad'\)"):
        scanwise.cumsum(df["ok"], reset=df["bad"])


def test_nullable_numeric_columns_still_work():
    df = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"),
                       "b": pd.array([0.5, 1.5, None], dtype="Float64")})
    got = scanwise.ewm_mean(df, alpha=0.5)
    want = df.astype(float).ewm(alpha=0.5).mean()
    pd.testing.assert_frame_equal(got, want, rtol=1e-12)


# --- Python-number states are weak, as in NumPy --------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_number_states_keep_the_input_dtype(dtype):
    x = np.linspace(-1, 1, 6).astype(dtype)
    rst = np.array([0, 0, 1, 0, 0, 0], dtype=bool)
    cases = {
        "cumsum": scanwise.cumsum(x, initial=0.5, reset=rst, reset_value=0.25),
        "cumprod": scanwise.cumprod(x, initial=2),
        "logcumsumexp": scanwise.logcumsumexp(x, initial=0.5),
        "linear_recurrence": scanwise.linear_recurrence(0.5, x, initial=1.0),
        "discounted_cumsum": scanwise.discounted_cumsum(x, 0.9, reset=rst, reset_value=1.5),
    }
    for name, got in cases.items():
        assert got.dtype == np.result_type(dtype, 0.5), name  # NumPy's weak promotion
    # a NumPy array state is strong: float64 promotes float32, as NumPy does
    got = scanwise.logcumsumexp(x, initial=np.array(0.5))
    assert got.dtype == np.result_type(x, np.array(0.5))
    np.testing.assert_allclose(got, np.logaddexp.accumulate(np.r_[0.5, x.astype(float)])[1:])


def test_logcumsumexp_keeps_a_float64_initial():
    x = np.zeros(3, dtype=np.float32)
    got = scanwise.logcumsumexp(x, initial=np.array(1e300))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [1e300] * 3)  # not inf: the state is not cast down


def test_dask_python_number_states_are_weak():
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.ones(6, dtype=np.float32), chunks=2)
    assert scanwise.cumsum(x, initial=0.5).dtype == np.float32
    assert scanwise.linear_recurrence(0.5, x, initial=1.0).dtype == np.float32
    got = scanwise.logcumsumexp(x, initial=np.array(1e300))
    assert got.dtype == np.float64 and np.all(got.compute() == 1e300)


# --- tensor flags and times go through the tensor checks ---------------------------


def test_tensor_reset_and_times_are_checked():
    torch = pytest.importorskip("torch")
    x = np.ones(4)
    with pytest.raises(TypeError, match="reset is a tensor on the 'meta' device"):
        scanwise.cumsum(x, reset=torch.zeros(4, dtype=torch.bool, device="meta"))
    with pytest.raises(TypeError, match="times is a tensor on the 'meta' device"):
        scanwise.ewm_mean(x, halflife=1.0, times=torch.arange(4.0, device="meta"))
    got = scanwise.cumsum(x, reset=torch.tensor([0, 1, 0, 0]))
    np.testing.assert_array_equal(np.asarray(got), [1, 1, 2, 3])
    got = scanwise.ewm_mean(x * np.arange(4), halflife=1.0, times=torch.tensor([0.0, 1, 3, 4]))
    want = pd.Series(x * np.arange(4)).ewm(
        halflife=pd.Timedelta(1, "s"), times=pd.to_datetime([0, 1, 3, 4], unit="s")).mean()
    np.testing.assert_allclose(np.asarray(got), want.to_numpy(), rtol=1e-12)


# --- polars reset_value ------------------------------------------------------------


def test_polars_namespace_takes_reset_value():
    pl = pytest.importorskip("polars")
    import scanwise.polars  # noqa: F401

    x, r = [1.0, 2, 3, 4, 5], [False, False, True, False, True]
    df = pl.DataFrame({"x": x, "r": r})

    def loop(a, init, rval):
        h, out = init, []
        for xt, rt in zip(x, r, strict=True):
            h = a * (rval if rt else h) + xt
            out.append(h)
        return out

    got = df.select(pl.col("x").scanwise.discounted_cumsum(
        0.5, reset="r", initial=10.0, reset_value=100.0))["x"].to_list()
    np.testing.assert_allclose(got, loop(0.5, 10.0, 100.0), rtol=1e-15)
    got = df.select(pl.col("x").scanwise.cumsum(reset="r", reset_value=7.0))["x"].to_list()
    np.testing.assert_allclose(got, loop(1.0, 0.0, 7.0), rtol=1e-15)
    with pytest.raises(TypeError, match="reset_value must be a number"):
        pl.col("x").scanwise.cumsum(reset="r", reset_value="r")


# --- an infinite decay span is pandas' expanding mean, without warnings ------------


@pytest.mark.parametrize("kw", [{"com": np.inf}, {"span": np.inf}, {"halflife": np.inf}])
def test_infinite_decay_is_the_expanding_statistic(kw):
    x = pd.Series([1.0, 2, np.nan, 4, 5, -1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean = scanwise.ewm_mean(x, **kw)
        var = scanwise.ewm_var(x, **kw)
    pd.testing.assert_series_equal(mean, x.ewm(com=np.inf).mean(), rtol=1e-12)
    pd.testing.assert_series_equal(var, x.expanding().var(), rtol=1e-12)


# --- a per-column Series beside a DataFrame -----------------------------------------


def test_a_per_column_series_beside_a_dataframe_says_how_to_pass_it():
    df = pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 1, 1]})
    with pytest.raises(ValueError, match="one value per row"):
        scanwise.discounted_cumsum(df, pd.Series({"b": 0.9, "a": 0.5}))
