"""pandas inputs are paired by label, as pandas pairs them (pandas is the oracle).

Two inputs: ``ewm_cov``/``ewm_corr`` follow ``x.ewm(...).cov(y)`` (pandas'
``flex_binary_moment``), the two-array scans run in their template's row order (the
other operand must have the same row labels, in any order) with pandas' binary
arithmetic (an outer join) on the columns.  Keyword arrays (``reset``, ``initial``,
``times``) given as pandas objects are aligned to the input by label, and refused with a
``ValueError`` naming them when a label is missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scanwise

pd = pytest.importorskip("pandas")

RTOL = 1e-12


def _frame(seed: int, n_t: int, columns, index=None, nan: float = 0.0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_t, len(columns)))
    data[rng.random(data.shape) < nan] = np.nan
    return pd.DataFrame(data, index=range(n_t) if index is None else index, columns=columns)


# --- ewm_cov / ewm_corr: pandas' flex_binary_moment ------------------------------


def test_issue_example_reordered_columns():
    a = pd.DataFrame({"x": [1.0, 2, 3, 5], "y": [1.0, 3, 2, 4]})
    got = scanwise.ewm_corr(a, a[["y", "x"]], span=3)
    want = a.ewm(span=3).corr(a[["y", "x"]])
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    np.testing.assert_allclose(got.iloc[-1].to_numpy(), [1.0, 1.0])


def test_two_series_with_differently_ordered_indexes():
    x = pd.Series([1.0, 2, 3, 5], index=[0, 1, 2, 3], name="p")
    y = pd.Series([1.0, 3, 2, 4], index=[3, 2, 1, 0], name="p")
    got = scanwise.ewm_corr(x, y, span=3)
    want = x.ewm(span=3).corr(y)
    pd.testing.assert_series_equal(got, want, rtol=RTOL)
    assert got.iloc[-1] < 0  # paired by position it would be +0.87
    # both unsorted, the same labels: pandas computes on the sorted union
    x2, y2 = x.sample(frac=1, random_state=1), y.sample(frac=1, random_state=2)
    pd.testing.assert_series_equal(
        scanwise.ewm_cov(x2, y2, alpha=0.4), x2.ewm(alpha=0.4).cov(y2), rtol=RTOL
    )


def test_series_names_follow_pandas():
    x = pd.Series([1.0, 2, 3, 5, 4], name="x")
    y = pd.Series([1.0, 3, 2, 4, 6], name="y")
    got = scanwise.ewm_cov(x, y, com=1)
    assert got.name is None
    pd.testing.assert_series_equal(got, x.ewm(com=1).cov(y), rtol=RTOL)
    same = scanwise.ewm_cov(x, y.rename("x"), com=1)
    assert same.name == "x"


def test_different_index_sets_take_the_union():
    x = pd.Series([1.0, 3, 2, 4, 6], index=[2, 0, 3, 1, 7])
    y = pd.Series([1.0, 3, 2, 4, 7, 1], index=[5, 0, 3, 1, 9, 7])
    for fn, method in [(scanwise.ewm_cov, "cov"), (scanwise.ewm_corr, "corr")]:
        got = fn(x, y, span=3)
        want = getattr(x.ewm(span=3), method)(y)
        pd.testing.assert_series_equal(got, want, rtol=RTOL)
    a = _frame(0, 8, ["u", "v"], index=[7, 1, 3, 5, 0, 2, 4, 6])
    b = _frame(1, 6, ["v", "w", "u"], index=[10, 4, 3, 2, 1, 0])
    pd.testing.assert_frame_equal(
        scanwise.ewm_cov(a, b, alpha=0.3, bias=True),
        a.ewm(alpha=0.3).cov(b, bias=True),
        rtol=RTOL,
    )
    pd.testing.assert_frame_equal(
        scanwise.ewm_corr(b, a, alpha=0.3), b.ewm(alpha=0.3).corr(a), rtol=RTOL
    )


def test_series_with_dataframe_keeps_the_frames_rows():
    df = _frame(2, 6, ["x", "y"], index=[3, 1, 0, 2, 8, 6])
    s = pd.Series([1.0, 3, 2, 4, 7, 0.5, 2], index=[5, 0, 3, 1, 9, 8, 2])
    for x, y in [(df, s), (s, df)]:
        got = scanwise.ewm_corr(x, y, span=3)
        pd.testing.assert_frame_equal(got, x.ewm(span=3).corr(y), rtol=RTOL)
        got = scanwise.ewm_cov(x, y, span=3, min_periods=2)
        pd.testing.assert_frame_equal(got, x.ewm(span=3, min_periods=2).cov(y), rtol=RTOL)
    # the same index: the Series pairs with every column, row by row
    s2 = s.iloc[:6].set_axis(df.index[::-1])
    pd.testing.assert_frame_equal(
        scanwise.ewm_cov(df, s2, alpha=0.5), df.ewm(alpha=0.5).cov(s2), rtol=RTOL
    )


def test_column_subsets_and_supersets():
    a = _frame(3, 10, ["p", "q", "r"])
    for cols in (["r"], ["q", "p"], ["r", "p", "q"], ["q", "s", "p", "t"]):
        b = _frame(4, 10, cols)
        for x, y in [(a, b), (b, a)]:
            got = scanwise.ewm_cov(x, y, span=4)
            pd.testing.assert_frame_equal(got, x.ewm(span=4).cov(y), rtol=RTOL)
            got = scanwise.ewm_corr(x, y, span=4, ignore_na=True)
            pd.testing.assert_frame_equal(got, x.ewm(span=4, ignore_na=True).corr(y), rtol=RTOL)


@pytest.mark.parametrize("ignore_na", [False, True])
@pytest.mark.parametrize("adjust", [True, False])
def test_nan_masking_of_both_operands(ignore_na, adjust):
    x = _frame(5, 30, ["a", "b"], nan=0.2)
    y = _frame(6, 25, ["b", "a"], index=range(5, 30), nan=0.2)
    x.iloc[4, 0] = np.inf  # pandas masks y there too (0 * inf is NaN)
    kw = dict(alpha=0.2, adjust=adjust, ignore_na=ignore_na, min_periods=3)
    pd.testing.assert_frame_equal(scanwise.ewm_cov(x, y, **kw), x.ewm(**kw).cov(y), rtol=RTOL)
    pd.testing.assert_frame_equal(scanwise.ewm_corr(x, y, **kw), x.ewm(**kw).corr(y), rtol=RTOL)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_t=st.integers(2, 12),
    cols=st.permutations(["a", "b", "c", "d"]),
    keep=st.integers(1, 4),
    shift=st.integers(-3, 3),
    shuffle=st.booleans(),
    kind=st.sampled_from(["cov", "corr"]),
)
def test_random_permutations_match_pandas(seed, n_t, cols, keep, shift, shuffle, kind):
    x = _frame(seed, n_t, ["a", "b", "c"], nan=0.15)
    y = _frame(seed + 1, n_t, cols[:keep], index=range(shift, shift + n_t), nan=0.15)
    if shuffle:
        rng = np.random.default_rng(seed)
        x = x.iloc[rng.permutation(n_t)]
        y = y.iloc[rng.permutation(n_t)]
    got = getattr(scanwise, f"ewm_{kind}")(x, y, com=1.5)
    want = getattr(x.ewm(com=1.5), kind)(y)
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    got = getattr(scanwise, f"ewm_{kind}")(x["b"], y[cols[0]], com=1.5)
    want = getattr(x["b"].ewm(com=1.5), kind)(y[cols[0]])
    pd.testing.assert_series_equal(got, want, rtol=RTOL)


# --- two-array scans: the template's time order, pandas arithmetic on columns ------


def _recurrence_loop(a, b):
    """h[t] = a[t] * h[t-1] + b[t] over b's rows in b's order, each step written with
    pandas arithmetic (which pairs columns by label)."""
    h = b.iloc[0] * 1.0
    rows = [h]
    for t in range(1, len(b)):
        h = a.loc[b.index[t]] * h + b.iloc[t]
        rows.append(h)
    if isinstance(b, pd.Series):
        return pd.Series(rows, index=b.index, name=b.name)
    return pd.DataFrame(rows, index=b.index)


def test_linear_recurrence_runs_in_bs_row_order_and_joins_columns():
    a = _frame(8, 8, ["v", "u"], index=[6, 4, 2, 0, 1, 3, 5, 7]).abs() / 3
    b = _frame(9, 8, ["u", "v", "w"], index=[3, 1, 7, 5, 0, 2, 4, 6])
    got = scanwise.linear_recurrence(a, b)
    A, B = a.reindex(b.index).align(b, join="outer", axis=1)
    want = _recurrence_loop(A, B)
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    assert list(got.index) == list(b.index)
    assert list(got.columns) == ["u", "v", "w"] and got["w"].iloc[1:].isna().all()
    # two Series with shuffled labels: b's order, not the sorted union's
    sa, sb = a["u"], b["u"].iloc[::-1]
    got = scanwise.linear_recurrence(sa, sb)
    pd.testing.assert_series_equal(got, _recurrence_loop(sa, sb), rtol=RTOL)
    np.testing.assert_allclose(
        got.to_numpy(),
        scanwise.linear_recurrence(sa.reindex(sb.index).to_numpy(), sb.to_numpy()),
        rtol=RTOL,
    )


def test_two_array_scans_refuse_other_row_labels():
    x = pd.Series([1.0, 2, 3, 4], index=[3, 0, 2, 1])
    for other in [x.iloc[:3], x.rename(index={3: 9}), pd.Series(0.5, index=range(5))]:
        with pytest.raises(ValueError, match="discount and x have different labels"):
            scanwise.discounted_cumsum(x, other)
        with pytest.raises(ValueError, match="a and b have different labels"):
            scanwise.linear_recurrence(other, x)


def test_series_coefficient_beside_a_dataframe_pairs_with_rows():
    b = _frame(10, 6, ["u", "v"], index=[5, 3, 1, 0, 2, 4])
    a = pd.Series([0.5, 0.1, 0.9, 0.3, 0.7, 0.2], index=range(6))
    got = scanwise.linear_recurrence(a, b)
    want = _recurrence_loop(pd.concat([a, a], axis=1, keys=["u", "v"]), b)
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    got = scanwise.discounted_cumsum(b, a)
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    # the DataFrame as the coefficient: the result is still a DataFrame, in a's order
    coef = b.abs() / 4
    got = scanwise.linear_recurrence(coef, a)
    want = _recurrence_loop(coef, pd.concat([a, a], axis=1, keys=["u", "v"]))
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)


def test_discounted_cumsum_with_a_shuffled_discount_series():
    x = pd.Series([1.0, 2, 3, 4, 5], index=list("cadeb"), name="r")
    d = pd.Series([0.9, 0.5, 0.1, 0.7, 0.3], index=list("ebdca"))
    got = scanwise.discounted_cumsum(x, d)
    pd.testing.assert_series_equal(got, _recurrence_loop(d, x), rtol=RTOL)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n_t=st.integers(1, 9))
def test_two_array_scans_follow_the_templates_order(seed, n_t):
    rng = np.random.default_rng(seed)
    x = pd.Series(rng.standard_normal(n_t), index=rng.permutation(n_t))
    d = pd.Series(rng.random(n_t), index=rng.permutation(n_t))
    got = scanwise.discounted_cumsum(x, d, reverse=bool(seed % 2))
    # the oracle: a loop over x's rows, looking up each step's discount by label
    h, want = 0.0, []
    steps = list(x.index)[::-1] if seed % 2 else list(x.index)
    for lab in steps:
        h = d[lab] * h + x[lab]
        want.append(h)
    want = pd.Series(want[::-1] if seed % 2 else want, index=x.index)
    pd.testing.assert_series_equal(got, want, rtol=RTOL)


# --- keyword arrays aligned to the input ------------------------------------------


def _segments(n_t, seed):
    rng = np.random.default_rng(seed)
    return pd.Series(np.cumsum(rng.random(n_t) < 0.3), index=range(n_t))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n_t=st.integers(3, 15))
def test_reset_series_with_shuffled_index(seed, n_t):
    df = _frame(seed, n_t, ["a", "b"])
    seg = _segments(n_t, seed)
    reset = seg.ne(seg.shift())
    shuffled = reset.sample(frac=1, random_state=seed)
    got = scanwise.cumsum(df, reset=shuffled)
    pd.testing.assert_frame_equal(got, df.groupby(seg).cumsum(), rtol=RTOL)
    got = scanwise.ewm_mean(df, alpha=0.3, reset=shuffled)
    want = df.groupby(seg).ewm(alpha=0.3).mean().droplevel(0).sort_index()
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    # the input shuffled instead: the flags follow their labels
    perm = np.random.default_rng(seed).permutation(n_t)
    got = scanwise.cumsum(df["a"].iloc[perm], reset=reset)
    want = scanwise.cumsum(df["a"].iloc[perm].to_numpy(), reset=reset.iloc[perm].to_numpy())
    np.testing.assert_array_equal(got.to_numpy(), want)


def test_reset_dataframe_aligned_on_rows_and_columns():
    df = _frame(11, 9, ["a", "b", "c"])
    rng = np.random.default_rng(11)
    flags = pd.DataFrame(rng.random((9, 3)) < 0.3, index=df.index, columns=df.columns)
    want = scanwise.cumsum(df, reset=flags.to_numpy())
    shuffled = flags.iloc[rng.permutation(9)][["c", "a", "b"]]
    pd.testing.assert_frame_equal(scanwise.cumsum(df, reset=shuffled), want)
    pd.testing.assert_frame_equal(
        scanwise.ewm_var(df, span=3, reset=shuffled),
        scanwise.ewm_var(df, span=3, reset=flags.to_numpy()),
    )


def test_initial_series_by_column_label():
    df = _frame(12, 6, ["a", "b", "c"])
    initial = pd.Series([10.0, 20.0, 30.0], index=["c", "a", "b"])
    pd.testing.assert_frame_equal(scanwise.cumsum(df, initial=initial),
                                  df.cumsum() + initial, rtol=RTOL)
    # streaming: the last row of one call (a one-row DataFrame) continues the next
    head = scanwise.cumsum(df.iloc[:3])
    tail = scanwise.cumsum(df.iloc[3:], initial=head.iloc[[-1]][["b", "c", "a"]])
    pd.testing.assert_frame_equal(tail, df.cumsum().iloc[3:], rtol=RTOL)
    tail = scanwise.cumprod(df.iloc[3:], initial=scanwise.cumprod(df.iloc[:3]).iloc[-1][::-1])
    pd.testing.assert_frame_equal(tail, df.cumprod().iloc[3:], rtol=RTOL)
    # extra labels are not needed and are dropped
    more = pd.concat([initial, pd.Series([99.0], index=["z"])])
    pd.testing.assert_frame_equal(scanwise.cumsum(df, initial=more), df.cumsum() + initial,
                                  rtol=RTOL)


def test_times_series_aligned_on_the_index():
    rng = np.random.default_rng(13)
    n_t = 40
    when = pd.Series(
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(1, 90, n_t).cumsum(), "min"),
        index=range(n_t),
    )
    df = _frame(13, n_t, ["a", "b"])
    want = df.ewm(halflife="30min", times=when).mean()
    shuffled = when.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(scanwise.ewm_mean(df, halflife="30min", times=shuffled), want)
    # a DatetimeIndex (or an array) stays positional, as in pandas
    pd.testing.assert_frame_equal(
        scanwise.ewm_mean(df, halflife="30min", times=pd.DatetimeIndex(when)), want
    )
    # a tz-aware Series keeps its zone through the alignment
    paris = when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    pd.testing.assert_frame_equal(
        scanwise.ewm_mean(df, halflife="30min", times=paris.iloc[::-1]),
        df.ewm(halflife="30min", times=paris).mean(),
    )


def test_keywords_follow_the_aligned_rows():
    x = pd.Series([1.0, 3, 2, 4, 6], index=[4, 3, 2, 1, 0])
    y = pd.Series([2.0, 1, 3, 5, 4], index=[0, 1, 2, 3, 4])
    reset = pd.Series([False, False, True, False, False], index=[4, 3, 2, 1, 0])
    got = scanwise.ewm_cov(x, y, alpha=0.5, reset=reset)
    X, Y = x.align(y)
    r = reset.reindex(X.index).to_numpy()
    want = scanwise.ewm_cov(X.to_numpy(), Y.to_numpy(), alpha=0.5, reset=r)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=RTOL)
    assert got.index.equals(X.index)


# --- refused with a ValueError ----------------------------------------------------


def test_missing_keyword_labels_are_refused():
    df = _frame(14, 5, ["a", "b"])
    no_value = r"has no value for the input's (row|column) label\(s\)"
    with pytest.raises(ValueError, match=r"^reset " + no_value + r" \[4\]"):
        scanwise.cumsum(df, reset=pd.Series([True, False, False, True], index=range(4)))
    with pytest.raises(ValueError, match="reset has no value for the input's row"):
        scanwise.ewm_mean(df, alpha=0.5, reset=pd.Series(True, index=range(1, 6)))
    with pytest.raises(ValueError, match=r"^reset " + no_value + r" \['b'\]"):
        scanwise.cumsum(df, reset=pd.DataFrame({"a": [False] * 5}))
    with pytest.raises(ValueError, match=r"^initial " + no_value + r" \['b'\]"):
        scanwise.cumsum(df, initial=pd.Series([1.0, 2.0], index=["a", "c"]))
    when = pd.Series(pd.date_range("2024-01-01", periods=5, freq="h"), index=[9, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"^times " + no_value + r" \[0\]"):
        scanwise.ewm_mean(df, halflife="1h", times=when)
    with pytest.raises(ValueError, match="reset has duplicate row labels"):
        scanwise.cumsum(df, reset=pd.Series(False, index=[0, 0, 1, 2, 3]))
    with pytest.raises(ValueError, match="exactly one row"):
        scanwise.cumsum(df, initial=df.iloc[:2])
    with pytest.raises(ValueError, match="reset is a DataFrame but the input is a Series"):
        scanwise.cumsum(df["a"], reset=df.gt(0))


def test_duplicate_labels_that_would_need_a_join_are_refused():
    x = pd.Series([1.0, 2, 3], index=[0, 0, 1])
    y = pd.Series([1.0, 2, 3], index=[0, 1, 2])
    with pytest.raises(ValueError, match="x and y have different indexes and x's has duplicate"):
        scanwise.ewm_corr(x, y, span=3)
    with pytest.raises(ValueError, match="a and b have different indexes and a's has duplicate"):
        scanwise.linear_recurrence(x, y)
    # the same index, duplicates and all, pairs row by row as in pandas
    pd.testing.assert_series_equal(
        scanwise.ewm_cov(x, x * 2, span=3), x.ewm(span=3).cov(x * 2), rtol=RTOL
    )
    a = _frame(15, 4, ["a", "a"])
    b = _frame(16, 4, ["a", "b"])
    with pytest.raises(ValueError, match="x's columns are not unique"):
        scanwise.ewm_cov(a, b, span=3)
    with pytest.raises(ValueError, match="'arg1' columns are not unique"):
        a.ewm(span=3).cov(b)  # pandas refuses as well
    # the same object with duplicate columns: column by column, as in pandas
    df = _frame(7, 12, ["a", "a", "b"])
    pd.testing.assert_frame_equal(
        scanwise.ewm_cov(df, df, span=3), df.ewm(span=3).cov(df), rtol=RTOL
    )


def test_positional_keywords_after_an_alignment_are_refused():
    x = pd.Series([1.0, 3, 2, 4], index=[3, 2, 1, 0])
    y = pd.Series([2.0, 1, 3, 5], index=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="reset is a positional array, but the inputs were"):
        scanwise.ewm_cov(x, y, alpha=0.5, reset=np.array([1, 0, 0, 1], bool))
    with pytest.raises(ValueError, match="times is a positional array"):
        scanwise.ewm_corr(x, y, halflife=2.0, times=np.arange(4.0))
    a = _frame(17, 4, ["u", "v"])
    b = _frame(18, 4, ["v", "w"])
    with pytest.raises(ValueError, match="initial is a positional array"):
        scanwise.linear_recurrence(a, b, initial=np.array([1.0, 2.0, 3.0]))
    # a scalar, or arrays where alignment changed nothing, stay positional
    got = scanwise.linear_recurrence(a, b, initial=1.0)
    assert list(got.columns) == ["u", "v", "w"]
    same = scanwise.ewm_cov(y, y * 2, alpha=0.5, reset=np.array([1, 0, 1, 0], bool))
    assert same.index.equals(y.index)


def test_return_state_after_a_union_that_pandas_drops_is_refused():
    df = _frame(19, 4, ["a", "b"])
    s = pd.Series([1.0, 2, 3, 4, 5], index=range(5))
    with pytest.raises(ValueError, match="return_state=True"):
        scanwise.ewm_cov(df, s, span=3, return_state=True)
    got, _ = scanwise.ewm_cov(df, s.iloc[:4], span=3, return_state=True)
    pd.testing.assert_frame_equal(got, df.ewm(span=3).cov(s.iloc[:4]), rtol=RTOL)


def test_times_as_a_column_name_of_a_pandas_frame():
    """``times="t"`` takes that column (not scanned, returned in place), as pandas'
    ``df[cols].ewm(times=df["t"])`` computes."""
    rng = np.random.default_rng(5)
    stamps = pd.to_datetime("2024-01-01") + pd.to_timedelta(
        np.cumsum(rng.integers(0, 5, 12)), unit="D"
    )
    df = pd.DataFrame({"x": rng.standard_normal(12), "t": stamps, "y": rng.standard_normal(12)})
    df.loc[3, "x"] = np.nan
    got = scanwise.ewm_mean(df, halflife="2 days", times="t")
    want = df[["x", "y"]].ewm(halflife="2 days", times=df["t"]).mean()
    assert list(got.columns) == ["x", "t", "y"]
    pd.testing.assert_series_equal(got["t"], df["t"])
    pd.testing.assert_frame_equal(got[["x", "y"]], want, rtol=1e-12)
    with pytest.raises(ValueError, match=r"times='s' is not a column of the input"):
        scanwise.ewm_mean(df, halflife="2 days", times="s")
    with pytest.raises(TypeError, match="names a column, which needs a DataFrame"):
        scanwise.ewm_mean(df["x"], halflife="2 days", times="t")
