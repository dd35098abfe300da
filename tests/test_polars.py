"""polars: column dtypes in the plain functions, ``times`` by column name, LazyFrame and
expression refusal, and the ``pl.col(...).scanwise`` namespace (against polars, pandas
and loops written here)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal

import numpy as np
import pytest

import scanwise

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
import scanwise.polars  # noqa: E402  (registers the namespace)

HOURS = pd.date_range("2024-01-01", periods=3, freq="h")


# ------------------------------------------------------------ plain functions: dtypes


@pytest.mark.parametrize(
    ("column", "hint"),
    [
        (pl.Series("t", HOURS), "times="),
        (pl.Series("t", [dt.date(2024, 1, d) for d in (1, 2, 3)]), "times="),
        (pl.Series("t", [dt.time(h) for h in (1, 2, 3)]), "numeric"),
        (pl.Series("t", [dt.timedelta(seconds=s) for s in (1, 2, 3)]), "total_seconds"),
        (pl.Series("t", ["a", "b", "c"]), "numeric"),
        (pl.Series("t", ["a", "b", "a"], dtype=pl.Categorical), "codes"),
        (pl.Series("t", ["a", "b", "a"], dtype=pl.Enum(["a", "b"])), "codes"),
        (pl.Series("t", [[1.0], [2.0], [3.0]]), "nested"),
        (pl.Series("t", [{"u": 1.0}, {"u": 2.0}, {"u": 3.0}]), "nested"),
        (pl.Series("t", [[1.0], [2.0], [3.0]], dtype=pl.Array(pl.Float64, 1)), "nested"),
        (pl.Series("t", [Decimal("1.10"), Decimal("2.20"), Decimal("3.30")]), "Float64"),
        (pl.Series("t", [1, 2, 3], dtype=pl.Int128), "Int64"),
        (pl.Series("t", [b"a", b"b", b"c"]), "numeric"),
    ],
    ids=lambda v: str(v.dtype) if isinstance(v, pl.Series) else v,
)
def test_non_numeric_columns_are_refused_by_name(column, hint):
    df = pl.DataFrame([column, pl.Series("x", [1.0, 2.0, 3.0])])
    for call in (
        lambda: scanwise.cumsum(df),
        lambda: scanwise.ewm_mean(df, alpha=0.5),
        lambda: scanwise.discounted_cumsum(df, 0.9),
    ):
        with pytest.raises(TypeError, match=r"x \(column 't'\) has dtype .*" + hint):
            call()
    with pytest.raises(TypeError, match=r"x \(polars Series 't'\) has dtype"):
        scanwise.cumsum(column)
    with pytest.raises(TypeError, match=r"y \(polars Series 't'\) has dtype"):
        scanwise.ewm_cov(df["x"], column, alpha=0.5)


def test_numbers_booleans_and_nulls_convert_as_pandas_nullable_dtypes():
    # Int64 with nulls -> float64 with NaN, as pandas' nullable Int64 (NaN propagates)
    got = scanwise.cumsum(pl.Series("i", [1, None, 3]))
    want = pd.Series([1, None, 3], dtype="Int64").astype("float64").cumsum(skipna=False)
    assert got.dtype == pl.Float64 and got.name == "i"
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    got = scanwise.ewm_mean(pl.Series("i", [1, None, 3, 4], dtype=pl.UInt16), alpha=0.5)
    want = pd.Series([1.0, np.nan, 3.0, 4.0]).ewm(alpha=0.5).mean()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())
    # Boolean: as NumPy (a sum counts); with nulls float64 NaN, as pandas' "boolean"
    got = scanwise.cumsum(pl.Series("b", [True, False, True]))
    assert got.dtype == pl.Int64
    np.testing.assert_array_equal(got.to_numpy(), np.cumsum([True, False, True]))
    got = scanwise.cumsum(pl.Series("b", [True, None, True]))
    want = pd.Series([True, None, True], dtype="boolean").astype("float64").cumsum(skipna=False)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    # an all-null column is NaN; a float32 column with nulls stays float32
    df = pl.DataFrame({"n": [None, None, None], "f": pl.Series([1.0, None, 2.0], dtype=pl.Float32)})
    got = scanwise.ewm_mean(df, alpha=0.5)
    assert got.schema == {"n": pl.Float64, "f": pl.Float64}  # one array: the common dtype
    assert np.isnan(got["n"].to_numpy()).all()
    np.testing.assert_allclose(
        got["f"].to_numpy(), pd.Series([1.0, np.nan, 2.0]).ewm(alpha=0.5).mean().to_numpy()
    )
    got = scanwise.cumsum(pl.Series("f", [1.0, None, 2.0], dtype=pl.Float32))
    assert got.dtype == pl.Float32
    # mixed numeric columns: one array, NumPy's promotion
    df = pl.DataFrame({"i": [1, 2, 3], "b": [True, True, False], "f": [0.5, 0.5, 0.5]})
    got = scanwise.cumsum(df)
    np.testing.assert_array_equal(got.to_numpy(), np.cumsum(df.to_numpy().astype(float), axis=0))


def test_keyword_series_are_checked_by_name():
    x = pl.Series("x", [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"reset \(polars Series 'r'\) must be a Boolean"):
        scanwise.cumsum(x, reset=pl.Series("r", HOURS))
    with pytest.raises(ValueError, match=r"reset \(polars Series 'r'\) has nulls"):
        scanwise.cumsum(x, reset=pl.Series("r", [False, None, True]))
    with pytest.raises(TypeError, match=r"initial \(polars Series 'i'\) has dtype String"):
        scanwise.cumsum(x, initial=pl.Series("i", ["a"]))
    with pytest.raises(TypeError, match=r"times \(polars Series 't'\) must be a Datetime"):
        scanwise.ewm_mean(x, halflife=1.0, times=pl.Series("t", ["a", "b", "c"]))
    with pytest.raises(TypeError, match=r"times \(polars Series 't'\) must be a Datetime"):
        scanwise.ewm_mean(x, halflife=1.0, times=pl.Series("t", [dt.timedelta(1)] * 3))
    # what works: a Boolean reset per row of a DataFrame, an Int reset, numeric times
    df = pl.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    got = scanwise.cumsum(df, reset=pl.Series("r", [False, True, False]))
    np.testing.assert_array_equal(got.to_numpy(), [[1, 4], [2, 5], [5, 11]])
    got = scanwise.cumsum(x, reset=pl.Series("r", [0, 1, 0]))
    np.testing.assert_array_equal(got.to_numpy(), [1, 2, 5])
    got = scanwise.ewm_mean(x, halflife=2.0, times=pl.Series("t", [0, 1, 5]))
    want = pd.Series([1.0, 2.0, 3.0]).ewm(halflife="2D", times=pd.to_datetime([0, 1, 5], unit="D"))
    np.testing.assert_allclose(got.to_numpy(), want.mean().to_numpy())


def test_times_by_column_name(rng):
    n_t = 50
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(1, 90, n_t).cumsum(), "min")
    x, y = rng.standard_normal((2, n_t))
    frame = pl.DataFrame({"x": x, "t": t, "y": y})
    got = scanwise.ewm_mean(frame, halflife="30min", times="t")
    want = pd.DataFrame({"x": x, "y": y}).ewm(halflife="30min", times=t).mean()
    assert got.columns == ["x", "t", "y"]
    assert got["t"].equals(frame["t"])  # passed through, not scanned
    np.testing.assert_allclose(got.select("x", "y").to_numpy(), want.to_numpy(), rtol=1e-12)
    got = scanwise.ewm_var(frame, halflife="30min", times="t", bias=True)
    # pandas has no var with times: the plain function on the arrays is the reference
    want = scanwise.ewm_var(np.stack([x, y], 1), axis=0, halflife="30min",
                            times=t.to_numpy(), bias=True)
    np.testing.assert_allclose(got.select("x", "y").to_numpy(), want, rtol=1e-12)
    # a time zone: the instants count
    paris = frame.with_columns(pl.col("t").dt.replace_time_zone("UTC")
                               .dt.convert_time_zone("Europe/Paris"))
    got = scanwise.ewm_mean(paris, halflife="30min", times="t")
    assert got["t"].dtype == pl.Datetime("us", "Europe/Paris")
    want_x = pd.Series(x).ewm(halflife="30min", times=t).mean().to_numpy()
    np.testing.assert_allclose(got["x"].to_numpy(), want_x, rtol=1e-12)
    # the Series form of the same times
    got = scanwise.ewm_mean(frame["x"], halflife="30min", times=paris["t"])
    np.testing.assert_allclose(got.to_numpy(), want_x, rtol=1e-12)
    with pytest.raises(ValueError, match="times='when' is not a column"):
        scanwise.ewm_mean(frame, halflife="30min", times="when")
    with pytest.raises(TypeError, match="times='t' names a column, which needs a DataFrame"):
        scanwise.ewm_mean(frame["x"], halflife="30min", times="t")


def test_lazy_frames_and_expressions_point_to_the_namespace():
    lf = pl.LazyFrame({"x": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"not a LazyFrame.*pl\.col\(\.\.\.\)\.scanwise\.cumsum"):
        scanwise.cumsum(lf)
    with pytest.raises(TypeError, match=r"polars expression; write pl\.col\(\.\.\.\)\.scanwise"):
        scanwise.ewm_mean(pl.col("x"), alpha=0.5)
    with pytest.raises(TypeError, match=r"scanwise\.discounted_cumsum got a polars expression"):
        scanwise.discounted_cumsum(pl.Series([1.0, 2.0]), 0.9, reset=pl.col("d"))


# ------------------------------------------------------------- expression namespace


def _groups(rng, n_t=120, k=3):
    g = np.sort(rng.integers(0, k, n_t))
    return pl.DataFrame({
        "g": g,
        "x": rng.standard_normal(n_t) + 2,
        "y": rng.standard_normal(n_t),
        "i": rng.integers(-5, 6, n_t),
        "done": rng.random(n_t) < 0.1,
    })


def _per_group(df, fn):
    """fn applied to each group's NumPy columns, put back in row order."""
    out = np.empty(df.height)
    g = df["g"].to_numpy()
    for key in np.unique(g):
        rows = g == key
        out[rows] = fn({c: df[c].to_numpy()[rows] for c in df.columns})
    return out


@pytest.mark.parametrize("lazy", [False, True])
def test_ewm_over_groups_equals_polars(rng, lazy):
    df = _groups(rng)
    frame = df.lazy() if lazy else df
    for adjust, bias in [(True, False), (False, True)]:
        mine = frame.select(
            m=pl.col("x").scanwise.ewm_mean(alpha=0.2, adjust=adjust).over("g"),
            v=pl.col("x").scanwise.ewm_var(alpha=0.2, adjust=adjust, bias=bias).over("g"),
            s=pl.col("x").scanwise.ewm_std(alpha=0.2, adjust=adjust, bias=bias).over("g"),
        )
        theirs = frame.select(
            m=pl.col("x").ewm_mean(alpha=0.2, adjust=adjust).over("g"),
            v=pl.col("x").ewm_var(alpha=0.2, adjust=adjust, bias=bias).over("g"),
            s=pl.col("x").ewm_std(alpha=0.2, adjust=adjust, bias=bias).over("g"),
        )
        if lazy:
            assert mine.collect_schema() == theirs.collect_schema()
            mine, theirs = mine.collect(), theirs.collect()
        for c in "mvs":
            np.testing.assert_allclose(
                mine[c].to_numpy(), theirs[c].to_numpy().astype(float), rtol=1e-10,
                equal_nan=True,
            )
    # the spelling
    got = df.with_columns(pl.col("x").scanwise.ewm_var(halflife=20).over("g"))
    want = df.with_columns(pl.col("x").ewm_var(half_life=20).over("g"))
    np.testing.assert_allclose(got["x"].to_numpy(), want["x"].to_numpy().astype(float),
                               rtol=1e-10, equal_nan=True)


def test_scans_over_groups(rng):
    df = _groups(rng)
    lf = df.lazy()
    got = lf.select(
        cs=pl.col("x").scanwise.cumsum().over("g"),
        ci=pl.col("i").scanwise.cumsum().over("g"),
        cp=pl.col("x").scanwise.cumprod().over("g"),
        lse=pl.col("x").scanwise.logcumsumexp().over("g"),
        rev=pl.col("x").scanwise.cumsum(reverse=True, initial=1.0).over("g"),
    ).collect()
    want = df.select(
        cs=pl.col("x").cum_sum().over("g"),
        ci=pl.col("i").cum_sum().over("g"),
        cp=pl.col("x").cum_prod().over("g"),
        rev=(pl.col("x").cum_sum(reverse=True) + 1.0).over("g"),
    )
    for c in ("cs", "cp", "rev"):
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(got["ci"].to_numpy(), want["ci"].to_numpy())
    lse = _per_group(df, lambda c: np.logaddexp.accumulate(c["x"]))
    np.testing.assert_allclose(got["lse"].to_numpy(), lse, rtol=1e-12)


def _discounted(x, gamma, done):
    """Reverse discounted sum restarting after each done step, as a plain loop."""
    out, h = np.empty(len(x)), 0.0
    for t in range(len(x) - 1, -1, -1):
        h = x[t] + (0.0 if done[t] else gamma[t] * h)
        out[t] = h
    return out


def test_discounted_cumsum_and_linear_recurrence(rng):
    df = _groups(rng).with_columns(gamma=pl.lit(0.9) + 0.05 * pl.col("y").tanh())
    lf = df.lazy()
    got = lf.select(
        pl.col("x").scanwise.discounted_cumsum(0.99, reverse=True),
        ret=pl.col("x").scanwise.discounted_cumsum(0.99, reverse=True, reset="done").over("g"),
        var=pl.col("x").scanwise.discounted_cumsum("gamma", reverse=True,
                                                  reset=pl.col("done")).over("g"),
        lr=pl.col("x").scanwise.linear_recurrence(pl.col("gamma")).over("g"),
        lr2=pl.col("i").scanwise.linear_recurrence(0.5),
    ).collect()
    x = df["x"].to_numpy()
    n = df.height
    np.testing.assert_allclose(got["x"].to_numpy(), _discounted(x, np.full(n, 0.99), np.zeros(n)))
    want = _per_group(df, lambda c: _discounted(c["x"], np.full(len(c["x"]), 0.99), c["done"]))
    np.testing.assert_allclose(got["ret"].to_numpy(), want, rtol=1e-12)
    want = _per_group(df, lambda c: _discounted(c["x"], c["gamma"], c["done"]))
    np.testing.assert_allclose(got["var"].to_numpy(), want, rtol=1e-12)

    def forward(a, b):
        out, h = np.empty(len(b)), 0.0
        for t in range(len(b)):
            h = b[t] if t == 0 else a[t] * h + b[t]
            out[t] = h
        return out

    np.testing.assert_allclose(
        got["lr"].to_numpy(), _per_group(df, lambda c: forward(c["gamma"], c["x"])), rtol=1e-12
    )
    i = df["i"].to_numpy().astype(float)
    np.testing.assert_allclose(got["lr2"].to_numpy(), forward(np.full(n, 0.5), i), rtol=1e-12)


def test_ewm_cov_corr_with_a_second_expression(rng):
    df = _groups(rng)
    got = df.lazy().select(
        cov=pl.col("x").scanwise.ewm_cov("y", com=3.0).over("g"),
        corr=pl.col("x").scanwise.ewm_corr(pl.col("y") * 2, com=3.0).over("g"),
        covb=pl.col("x").scanwise.ewm_cov(pl.col("y"), com=3.0, bias=True),
    ).collect()
    cov = _per_group(df, lambda c: pd.Series(c["x"]).ewm(com=3.0).cov(pd.Series(c["y"])))
    corr = _per_group(df, lambda c: pd.Series(c["x"]).ewm(com=3.0).corr(pd.Series(c["y"])))
    covb = pd.Series(df["x"].to_numpy()).ewm(com=3.0).cov(pd.Series(df["y"].to_numpy()), bias=True)
    np.testing.assert_allclose(got["cov"].to_numpy(), cov, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(got["corr"].to_numpy(), corr, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(got["covb"].to_numpy(), covb.to_numpy(), rtol=1e-10, equal_nan=True)


def test_ewm_times_as_name_or_expression_per_group(rng):
    n_t = 90
    g = np.repeat([0, 1, 2], 30)
    t = (np.datetime64("2024-01-01T00:00", "us")
         + rng.integers(1, 120, n_t).cumsum().astype("m8[m]"))
    x, y = rng.standard_normal((2, n_t))
    df = pl.DataFrame({"g": g, "t": t, "x": x, "y": y})
    got = df.lazy().with_columns(
        m=pl.col("x").scanwise.ewm_mean(halflife="2h", times="t").over("g"),
        m2=pl.col("x").scanwise.ewm_mean(halflife=np.timedelta64(2, "h"),
                                         times=pl.col("t")).over("g"),
        by=pl.col("x").scanwise.ewm_mean(halflife="2h", times="t", adjust=False).over("g"),
        v=pl.col("x").scanwise.ewm_var(halflife="2h", times="t").over("g"),
        c=pl.col("x").scanwise.ewm_corr("y", halflife="2h", times="t").over("g"),
    ).collect()

    def pandas_mean(c):
        return pd.Series(c["x"]).ewm(halflife="2h", times=pd.DatetimeIndex(c["t"])).mean()

    np.testing.assert_allclose(got["m"].to_numpy(), _per_group(df, pandas_mean), rtol=1e-12)
    np.testing.assert_array_equal(got["m2"].to_numpy(), got["m"].to_numpy())
    want = df.select(pl.col("x").ewm_mean_by("t", half_life="2h").over("g"))["x"]
    np.testing.assert_allclose(got["by"].to_numpy(), want.to_numpy(), rtol=1e-12)
    # var/corr with times: the plain function on each group's arrays is the reference
    v = _per_group(df, lambda c: scanwise.ewm_var(c["x"], halflife="2h", times=c["t"]))
    np.testing.assert_allclose(got["v"].to_numpy(), v, rtol=1e-12, equal_nan=True)
    c = _per_group(df, lambda c: scanwise.ewm_corr(c["x"], c["y"], halflife="2h", times=c["t"]))
    np.testing.assert_allclose(got["c"].to_numpy(), c, rtol=1e-12, equal_nan=True)


def test_namespace_output_dtypes_follow_the_plain_functions():
    lf = pl.LazyFrame({
        "i": pl.Series([1, 2, 3], dtype=pl.Int32),
        "u": pl.Series([1, 2, 3], dtype=pl.UInt8),
        "f": pl.Series([1.0, 2.0, 3.0], dtype=pl.Float32),
        "b": [True, False, True],
    })
    q = lf.select(
        pl.col("i").scanwise.cumsum().alias("i_cumsum"),
        pl.col("u").scanwise.cumprod().alias("u_cumprod"),
        pl.col("b").scanwise.cumsum().alias("b_cumsum"),
        pl.col("f").scanwise.cumsum().alias("f_cumsum"),
        pl.col("i").scanwise.ewm_mean(alpha=0.5).alias("i_ewm"),
        pl.col("f").scanwise.ewm_std(alpha=0.5).alias("f_ewm"),
        pl.col("f").scanwise.discounted_cumsum(0.9).alias("f_disc"),
        pl.col("i").scanwise.discounted_cumsum(0.9).alias("i_disc"),
        pl.col("i").scanwise.logcumsumexp().alias("i_lse"),
        pl.col("f").scanwise.ewm_cov("i", alpha=0.5).alias("f_cov_i"),
        pl.col("i", "f").scanwise.cumsum().name.suffix("_multi"),
    )
    want = {  # NumPy's rules, as the plain functions
        "i_cumsum": pl.Int64, "u_cumprod": pl.UInt64, "b_cumsum": pl.Int64,
        "f_cumsum": pl.Float32, "i_ewm": pl.Float64, "f_ewm": pl.Float32,
        "f_disc": pl.Float32, "i_disc": pl.Float64, "i_lse": pl.Float64,
        "f_cov_i": pl.Float64, "i_multi": pl.Int64, "f_multi": pl.Float32,
    }
    assert dict(q.collect_schema()) == want
    out = q.collect()
    assert dict(out.schema) == want
    np.testing.assert_array_equal(out["b_cumsum"].to_numpy(), [1, 1, 2])
    np.testing.assert_array_equal(out["u_cumprod"].to_numpy(), [1, 2, 6])


def test_namespace_errors():
    df = pl.DataFrame({"t": HOURS, "x": [1.0, 2.0, 3.0], "i": [1, None, 3]})
    with pytest.raises(TypeError, match=r"x \('t'\) has dtype Datetime"):
        df.select(pl.col("t").scanwise.cumsum())
    with pytest.raises(TypeError, match=r"x \('t'\) has dtype Datetime"):
        df.lazy().select(pl.col("t").scanwise.ewm_mean(alpha=0.5)).collect_schema()
    with pytest.raises(TypeError, match=r"y \('t'\) has dtype Datetime"):
        df.select(pl.col("x").scanwise.ewm_cov("t", alpha=0.5))
    with pytest.raises(TypeError, match=r"times \('x'\) must be a Datetime, Date or numeric"):
        df.select(pl.col("x").scanwise.ewm_mean(halflife=1.0, times=pl.col("x") > 1))
    with pytest.raises(TypeError, match=r"reset \('x'\) must be a Boolean"):
        df.select(pl.col("x").scanwise.cumsum(reset="x"))
    with pytest.raises(ValueError, match="cannot hold the nulls"):
        df.select(pl.col("i").scanwise.cumsum())
    with pytest.raises(TypeError, match="initial must be a number"):
        pl.col("x").scanwise.cumsum(initial=pl.col("x"))
    with pytest.raises(TypeError, match="discount must be a number, an expression"):
        pl.col("x").scanwise.discounted_cumsum([0.9])
    with pytest.raises(ValueError, match="alpha must satisfy"):  # checked at plan time
        df.lazy().select(pl.col("x").scanwise.ewm_mean(alpha=2.0)).collect_schema()
    # nulls in an integer column are NaN where the result is float
    got = df.select(pl.col("i").scanwise.ewm_mean(alpha=0.5))["i"].to_numpy()
    np.testing.assert_allclose(got, pd.Series([1.0, np.nan, 3.0]).ewm(alpha=0.5).mean())


def test_streaming_engine_scans_whole_columns():
    n = 250_000  # more than one morsel: a batched UDF would restart the scan
    lf = pl.LazyFrame({"x": np.ones(n), "g": np.repeat([0, 1], n // 2)})
    q = lf.select(
        pl.col("x").scanwise.cumsum(),
        over=pl.col("x").scanwise.cumsum().over("g"),
    )
    out = q.collect(engine="streaming")
    np.testing.assert_array_equal(out["x"].to_numpy(), np.arange(1, n + 1))
    half = np.arange(1, n // 2 + 1)
    np.testing.assert_array_equal(out["over"].to_numpy(), np.concatenate([half, half]))


def test_without_pipe_with_dtype_results_are_float64(monkeypatch, rng):
    """polars 1.x has no ``pipe_with_dtype``: the namespace still works, in Float64."""
    monkeypatch.delattr(pl, "pipe_with_dtype")
    df = _groups(rng)
    q = df.lazy().select(
        pl.col("i").scanwise.cumsum().over("g"),
        d=pl.col("x").scanwise.discounted_cumsum("y", reverse=True, reset="done").over("g"),
    )
    assert dict(q.collect_schema()) == {"i": pl.Float64, "d": pl.Float64}
    out = q.collect()
    want = df.select(pl.col("i").cum_sum().over("g"))["i"].to_numpy()
    np.testing.assert_array_equal(out["i"].to_numpy(), want)
    want = _per_group(df, lambda c: _discounted(c["x"], c["y"], c["done"]))
    np.testing.assert_allclose(out["d"].to_numpy(), want, rtol=1e-12)


# ------------------------------------------------------------------- import orders


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_orders():
    use = ("print(pl.DataFrame({'x': [1.0, 2.0]})"
           ".select(pl.col('x').scanwise.cumsum())['x'].to_list())")
    # polars first: import scanwise registers the namespace
    assert _run(f"import polars as pl\nimport scanwise\n{use}") == "[1.0, 3.0]"
    # scanwise first: not registered (and polars not imported) until scanwise.polars
    out = _run(f"""
        import sys
        import scanwise
        print('polars' in sys.modules)
        import polars as pl
        print(hasattr(pl.col('x'), 'scanwise'))
        import scanwise.polars
        {use}
    """)
    assert out.split("\n") == ["False", "False", "[1.0, 3.0]"]
    # scanwise.polars alone imports polars; registering twice warns nothing (-W error)
    assert _run(f"import scanwise.polars\nimport polars as pl\n{use}") == "[1.0, 3.0]"
    assert _run(f"import polars as pl\nimport scanwise\nimport scanwise.polars\n{use}") == (
        "[1.0, 3.0]"
    )
