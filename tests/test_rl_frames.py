"""The RL estimators on pandas, polars and xarray inputs (issue 19): the same type out,
inputs paired by label (the same labels in any order; label sets that differ are refused).

Oracles: a plain reverse loop written here from the formulas in ``scanwise.rl``'s
docstrings, fed with the inputs reindexed by pandas' (xarray's) own ``reindex`` to the
reference's labels.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scanwise

pd = pytest.importorskip("pandas")

RTOL = 1e-12


# --- oracles: the docstring formulas as loops over time (rows) ---------------------


def gae_loop(r, v, nv, term, done, gamma, lam):
    """delta[t] = r[t] + g*(1-term[t])*nv[t] - v[t]; A[t] = delta[t] + g*lam*(1-done[t])*A[t+1]."""
    r, v, nv = (np.asarray(x, dtype=float) for x in (r, v, nv))
    term = np.broadcast_to(np.asarray(term, dtype=float), r.shape)
    done = term if done is None else np.broadcast_to(np.asarray(done, dtype=float), r.shape)
    adv = np.empty_like(r)
    a = np.zeros_like(r[0])
    for t in reversed(range(r.shape[0])):
        delta = r[t] + gamma * (1 - term[t]) * nv[t] - v[t]
        a = delta + gamma * lam * (1 - done[t]) * a
        adv[t] = a
    return adv, adv + v


def returns_loop(r, gamma, done, bootstrap):
    """G[t] = r[t] + g*(1-done[t])*G[t+1], G[T] = bootstrap."""
    r = np.asarray(r, dtype=float)
    done = np.zeros(r.shape) if done is None else np.broadcast_to(
        np.asarray(done, dtype=float), r.shape)
    out = np.empty_like(r)
    g = np.broadcast_to(np.asarray(bootstrap, dtype=float), r.shape[1:]).copy()
    for t in reversed(range(r.shape[0])):
        g = r[t] + gamma * (1 - done[t]) * g
        out[t] = g
    return out


def _rollout(seed, n_t, columns, index=None):
    rng = np.random.default_rng(seed)
    index = list(range(n_t)) if index is None else index
    shape = (n_t, len(columns))

    def frame(data):
        return pd.DataFrame(data, index=index, columns=columns)

    return (
        frame(rng.standard_normal(shape)),
        frame(rng.standard_normal(shape)),
        frame(rng.standard_normal(shape)),
        frame(rng.random(shape) < 0.15),
        frame(rng.random(shape) < 0.3),
    )


# --- pandas ----------------------------------------------------------------------


def test_series_with_reordered_indexes_pair_by_label():
    r = pd.Series([1.0, 2.0, 3.0, 4.0], index=[10, 11, 12, 13], name="reward")
    v = pd.Series([0.5, 0.1, -0.2, 0.3], index=[13, 12, 11, 10])
    nv = pd.Series([0.4, 0.0, 1.0, 2.0], index=[12, 10, 13, 11])
    term = pd.Series([True, False, False, False], index=[13, 10, 11, 12])
    adv, ret = scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=0.8)
    want_a, want_r = gae_loop(r, v.reindex(r.index), nv.reindex(r.index),
                              term.reindex(r.index), None, 0.9, 0.8)
    pd.testing.assert_series_equal(adv, pd.Series(want_a, index=r.index, name="reward"),
                                   rtol=RTOL)
    pd.testing.assert_series_equal(ret, pd.Series(want_r, index=r.index, name="reward"),
                                   rtol=RTOL)
    by_position, _ = gae_loop(r, v, nv, term, None, 0.9, 0.8)
    assert not np.allclose(adv.to_numpy(), by_position)  # what main computed
    got = scanwise.lambda_returns(r, v, nv, terminated=term, discount=0.9, lam=0.8)
    pd.testing.assert_series_equal(got, ret, rtol=RTOL)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_t=st.integers(1, 9),
    data=st.data(),
    per_env=st.booleans(),
    with_done=st.booleans(),
)
def test_shuffled_dataframes_match_the_loop_on_reindexed_inputs(seed, n_t, data, per_env,
                                                                with_done):
    columns = ["e0", "e1", "e2", "e3"]
    rows = data.draw(st.permutations(range(n_t)), label="reference rows")
    frames = _rollout(seed, n_t, columns, index=[f"s{k}" for k in rows])
    r = frames[0]
    shuffled = []
    for k, f in enumerate(frames[1:]):
        order = data.draw(st.permutations(range(n_t)), label=f"rows {k}")
        cols = data.draw(st.permutations(columns), label=f"columns {k}")
        shuffled.append(f.iloc[list(order)][list(cols)])
    v, nv, term, done = shuffled
    gamma = 0.93
    lam = 0.8
    if per_env:
        env_order = data.draw(st.permutations(columns), label="discount order")
        gamma = pd.Series(np.linspace(0.5, 1.0, 4), index=columns)[list(env_order)]
        lam = pd.Series(np.linspace(0.9, 0.2, 4), index=columns)[list(env_order)]
    adv, ret = scanwise.gae(r, v, nv, terminated=term, done=done if with_done else None,
                            discount=gamma, lam=lam)

    def al(f):  # pandas' own label handling
        return f.reindex(index=r.index, columns=r.columns).to_numpy()

    g = gamma.reindex(r.columns).to_numpy() if per_env else gamma
    lm = lam.reindex(r.columns).to_numpy() if per_env else lam
    want_a, want_r = gae_loop(r.to_numpy(), al(v), al(nv), al(term),
                              al(done) if with_done else None, g, lm)
    # time runs in the reference's row order (not sorted), the result has its labels
    pd.testing.assert_frame_equal(adv, pd.DataFrame(want_a, index=r.index, columns=columns),
                                  rtol=RTOL)
    pd.testing.assert_frame_equal(ret, pd.DataFrame(want_r, index=r.index, columns=columns),
                                  rtol=RTOL)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_t=st.integers(1, 9), data=st.data())
def test_discounted_returns_shuffled_done_and_bootstrap(seed, n_t, data):
    columns = ["a", "b", "c"]
    r, _, nv, _, done = _rollout(seed, n_t, columns)
    order = data.draw(st.permutations(range(n_t)))
    cols = data.draw(st.permutations(columns))
    done_s = done.iloc[list(order)][list(cols)]
    boot = pd.Series([1.0, -2.0, 3.5], index=columns)[list(data.draw(st.permutations(columns)))]
    got = scanwise.discounted_returns(r, discount=0.9, done=done_s, bootstrap=boot)
    want = returns_loop(r.to_numpy(), 0.9, done_s.reindex(index=r.index, columns=columns),
                        boot.reindex(columns).to_numpy())
    pd.testing.assert_frame_equal(got, pd.DataFrame(want, index=r.index, columns=columns),
                                  rtol=RTOL)
    # a one-row DataFrame bootstrap (``next_values.iloc[[-1]]``), by column label
    last = nv.iloc[[-1]][list(cols)]
    got = scanwise.discounted_returns(r, discount=0.9, bootstrap=last)
    want = returns_loop(r.to_numpy(), 0.9, None, nv.iloc[-1].to_numpy())
    pd.testing.assert_frame_equal(got, pd.DataFrame(want, index=r.index, columns=columns),
                                  rtol=RTOL)


def test_discounted_returns_series_keeps_name_and_unsorted_index():
    r = pd.Series([1.0, 2.0, 3.0, 4.0], index=[3, 1, 0, 2], name="r")
    done = pd.Series([0, 1, 0, 0], index=[3, 1, 0, 2]).iloc[[2, 0, 3, 1]]
    got = scanwise.discounted_returns(r, discount=0.5, done=done, bootstrap=8.0)
    want = returns_loop(r.to_numpy(), 0.5, done.reindex(r.index).to_numpy(), 8.0)
    pd.testing.assert_series_equal(got, pd.Series(want, index=r.index, name="r"), rtol=RTOL)


def test_step_flags_as_a_series_mark_the_rows_of_a_dataframe():
    r, v, nv, _, _ = _rollout(3, 6, ["x", "y"])
    term = pd.Series([0, 0, 1, 0, 0, 1], index=r.index, dtype=bool).iloc[::-1]
    adv, _ = scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=0.9)
    flags = term.reindex(r.index).to_numpy()[:, None]
    want, _ = gae_loop(r.to_numpy(), v.to_numpy(), nv.to_numpy(), flags, None, 0.9, 0.9)
    pd.testing.assert_frame_equal(adv, pd.DataFrame(want, index=r.index, columns=r.columns),
                                  rtol=RTOL)
    # a 1-D NumPy flag beside a DataFrame marks its rows too (time runs along the rows)
    adv2, _ = scanwise.gae(r, v, nv, terminated=flags[:, 0], discount=0.9, lam=0.9)
    pd.testing.assert_frame_equal(adv2, adv)


def test_numpy_arrays_beside_frames_pair_with_the_references_rows():
    r, v, nv, term, _ = _rollout(5, 5, ["x", "y"])
    v_shuffled = v.iloc[[4, 2, 0, 1, 3]]
    adv, _ = scanwise.gae(r, v_shuffled, nv.to_numpy(), terminated=term.to_numpy(),
                          discount=np.array([0.9, 0.5]), lam=0.7)
    want, _ = gae_loop(r.to_numpy(), v.to_numpy(), nv.to_numpy(), term.to_numpy(), None,
                       np.array([0.9, 0.5]), 0.7)
    pd.testing.assert_frame_equal(adv, pd.DataFrame(want, index=r.index, columns=r.columns),
                                  rtol=RTOL)
    # rewards as NumPy: the first labelled input is the reference
    adv, _ = scanwise.gae(r.to_numpy(), v, nv.iloc[::-1], terminated=term,
                          discount=0.9, lam=0.7)
    want, _ = gae_loop(r.to_numpy(), v.to_numpy(), nv.to_numpy(), term.to_numpy(), None,
                       0.9, 0.7)
    pd.testing.assert_frame_equal(adv, pd.DataFrame(want, index=v.index, columns=v.columns),
                                  rtol=RTOL)


def test_identical_indexes_with_duplicates_pair_row_by_row():
    idx = [0, 0, 1, 1]
    r = pd.Series([1.0, 2.0, 3.0, 4.0], index=idx)
    v = pd.Series([0.1, 0.2, 0.3, 0.4], index=idx)
    adv, _ = scanwise.gae(r, v, v, terminated=pd.Series([0, 0, 0, 1], index=idx),
                          discount=0.9, lam=0.9)
    want, _ = gae_loop(r, v, v, [0, 0, 0, 1], None, 0.9, 0.9)
    pd.testing.assert_series_equal(adv, pd.Series(want, index=r.index), rtol=RTOL)


def test_label_mismatches_are_refused_naming_the_argument():
    r, v, nv, term, done = _rollout(1, 5, ["x", "y", "z"])
    kw = {"discount": 0.9, "lam": 0.9}
    with pytest.raises(ValueError, match=r"values does not have the same index \(row\) "
                                         r"labels as rewards \(missing \[4\]\)"):
        scanwise.gae(r, v.iloc[:4], nv, terminated=term, **kw)
    relabelled = nv.rename(index={0: 99})
    with pytest.raises(ValueError, match=r"next_values .*missing \[0\], extra \[99\]"):
        scanwise.gae(r, v, relabelled, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"values does not have the same column labels"):
        scanwise.gae(r, v.rename(columns={"z": "w"}), nv, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"terminated does not have the same index"):
        scanwise.gae(r, v, nv, terminated=term.iloc[1:], **kw)
    with pytest.raises(ValueError, match=r"done does not have the same column labels"):
        scanwise.gae(r, v, nv, terminated=term, done=done[["x", "y"]], **kw)
    dup = v.copy()
    dup.index = [0, 0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"values and rewards .*duplicates"):
        scanwise.gae(r, dup, nv, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"discount does not have the same column labels "
                                         r"as rewards \(missing \['z'\]\)"):
        scanwise.gae(r, v, nv, terminated=term, discount=pd.Series({"x": 0.9, "y": 0.9}),
                     lam=0.9)
    with pytest.raises(ValueError, match=r"lam .*extra \['w'\]"):
        scanwise.gae(r, v, nv, terminated=term, discount=0.9,
                     lam=pd.Series({"x": 0.9, "y": 0.9, "z": 0.9, "w": 0.1}))
    with pytest.raises(ValueError, match=r"bootstrap does not have the same column labels"):
        scanwise.discounted_returns(r, discount=0.9, bootstrap=pd.Series({"x": 1.0}))
    with pytest.raises(ValueError, match=r"values is a Series but rewards is a DataFrame"):
        scanwise.gae(r, v["x"], nv, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"terminated is a DataFrame but rewards is a Series"):
        scanwise.gae(r["x"], v["x"], nv["x"], terminated=term, **kw)


def test_pandas_argument_errors():
    r, v, nv, term, _ = _rollout(2, 4, ["x", "y"])
    kw = {"terminated": term, "discount": 0.9, "lam": 0.9}
    with pytest.raises(TypeError, match=r"discount must be a number or a pandas Series"):
        scanwise.gae(r, v, nv, terminated=term, discount=r.iloc[[0]], lam=0.9)
    with pytest.raises(TypeError, match=r"lam is a pandas Series but rewards is a Series"):
        scanwise.gae(r["x"], v["x"], nv["x"], terminated=term["x"], discount=0.9,
                     lam=pd.Series([0.9]))
    with pytest.raises(ValueError, match=r"bootstrap as a DataFrame must have exactly one row"):
        scanwise.discounted_returns(r, discount=0.9, bootstrap=nv.iloc[:2])
    with pytest.raises(TypeError, match=r"out= takes NumPy arrays; it is not supported with "
                                        r"pandas DataFrame input"):
        scanwise.gae(r, v, nv, out=(np.empty((4, 2)), np.empty((4, 2))), **kw)
    with pytest.raises(ValueError, match=r"axis must be None or 0 for pandas DataFrame"):
        scanwise.gae(r, v, nv, axis=1, **kw)
    with pytest.raises(ValueError, match=r"axis must be None or 0 for pandas Series"):
        scanwise.discounted_returns(r["x"], discount=0.9, axis=-1)
    with pytest.raises(ValueError, match=r"dim= is for xarray inputs"):
        scanwise.gae(r, v, nv, dim="time", **kw)
    with pytest.raises(ValueError, match=r"dim= is for xarray inputs"):
        scanwise.discounted_returns(np.ones(3), discount=0.9, dim="time")


def test_torch_tensor_beside_a_dataframe_is_refused():
    torch = pytest.importorskip("torch")
    r, _, nv, term, _ = _rollout(2, 4, ["x", "y"])
    with pytest.raises(TypeError, match=r"values is a torch Tensor and rewards a pandas "
                                        r"DataFrame: they do not mix"):
        scanwise.gae(r, torch.zeros(4, 2, dtype=torch.float64), nv, terminated=term,
                     discount=0.9, lam=0.9)


# --- polars: no index, pairs by position as polars does --------------------------


def test_polars_in_polars_out():
    pl = pytest.importorskip("polars")
    r, v, nv, term, _ = _rollout(7, 6, ["x", "y"])
    pr, pv, pnv = (pl.from_pandas(f) for f in (r, v, nv))
    pterm = pl.from_pandas(term)
    adv, ret = scanwise.gae(pr, pv, pnv, terminated=pterm, discount=pl.Series([0.9, 0.5]),
                            lam=0.8)
    want_a, want_r = gae_loop(r.to_numpy(), v.to_numpy(), nv.to_numpy(), term.to_numpy(),
                              None, np.array([0.9, 0.5]), 0.8)
    assert isinstance(adv, pl.DataFrame) and isinstance(ret, pl.DataFrame)
    assert adv.columns == ["x", "y"]
    np.testing.assert_allclose(adv.to_numpy(), want_a, rtol=RTOL)
    np.testing.assert_allclose(ret.to_numpy(), want_r, rtol=RTOL)
    # a Series: its name kept; a Boolean Series flag beside a DataFrame marks the rows
    s = scanwise.lambda_returns(pr["x"], pv["x"], pnv["x"], terminated=pterm["x"],
                                discount=0.9, lam=0.8)
    assert isinstance(s, pl.Series) and s.name == "x"
    want = gae_loop(r["x"], v["x"], nv["x"], term["x"], None, 0.9, 0.8)[1]
    np.testing.assert_allclose(s.to_numpy(), want, rtol=RTOL)
    row_flags = pterm["x"]
    got = scanwise.discounted_returns(pr, discount=0.9, done=row_flags,
                                      bootstrap=pnv.tail(1))
    want = returns_loop(r.to_numpy(), 0.9, term["x"].to_numpy()[:, None],
                        nv.iloc[-1].to_numpy())
    assert isinstance(got, pl.DataFrame)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=RTOL)
    with pytest.raises(TypeError, match=r"polars LazyFrame.*\.collect\(\)"):
        scanwise.discounted_returns(pr.lazy(), discount=0.9)
    with pytest.raises(TypeError, match=r"out= takes NumPy arrays"):
        scanwise.gae(pr, pv, pnv, terminated=pterm, discount=0.9, lam=0.9,
                     out=(np.empty((6, 2)), np.empty((6, 2))))


# --- xarray: by coordinate, along dim= --------------------------------------------


def _dataarrays(seed, n_t=6, envs=("a", "b", "c")):
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(seed)
    coords = {"env": list(envs), "time": np.arange(100, 100 + n_t)}

    def da(data, name=None):
        return xr.DataArray(data, dims=("env", "time"), coords=coords, name=name,
                            attrs={"units": "u"} if name else {})

    shape = (len(envs), n_t)
    return (da(rng.standard_normal(shape), "reward"), da(rng.standard_normal(shape)),
            da(rng.standard_normal(shape)), da(rng.random(shape) < 0.2))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_dataarrays_aligned_by_coordinate(seed, data):
    r, v, nv, term = _dataarrays(seed)
    t_order = data.draw(st.permutations(range(6)))
    e_order = data.draw(st.permutations(range(3)))
    v_s = v.isel(time=list(t_order), env=list(e_order)).transpose("time", "env")
    nv_s = nv.isel(env=list(e_order))
    step_flags = term.isel(env=0, drop=True).isel(time=list(t_order))  # one per step
    gamma = r.isel(time=0, drop=True).copy(data=[0.9, 0.6, 0.3]).isel(env=list(e_order))
    adv, ret = scanwise.gae(r, v_s, nv_s, terminated=step_flags, discount=gamma, lam=0.7,
                            dim="time")
    like = dict(env=r.env, time=r.time)  # xarray's own reindex is the label oracle

    def time_major(x):
        return x.reindex(like).transpose("time", "env").values

    flags = step_flags.reindex(time=r.time).values[:, None]
    want_a, want_r = gae_loop(time_major(r), time_major(v_s), time_major(nv_s), flags,
                              None, gamma.reindex(env=r.env).values, 0.7)
    assert adv.dims == ("env", "time") and adv.name == "reward" and adv.attrs == r.attrs
    assert adv.env.values.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(adv.values, want_a.T, rtol=RTOL)
    np.testing.assert_allclose(ret.values, want_r.T, rtol=RTOL)


def test_dataarray_discounted_returns_and_errors():
    xr = pytest.importorskip("xarray")
    r, v, nv, term = _dataarrays(4)
    boot = xr.DataArray([1.0, 2.0, 3.0], dims="env", coords={"env": ["c", "a", "b"]})
    got = scanwise.discounted_returns(r, discount=0.9, done=term.isel(time=[5, 4, 3, 2, 1, 0]),
                                      bootstrap=boot, dim="time")
    want = returns_loop(r.values.T, 0.9, term.values.T, boot.reindex(env=r.env).values)
    assert isinstance(got, xr.DataArray) and got.dims == r.dims
    np.testing.assert_allclose(got.values, want.T, rtol=RTOL)
    one = r.isel(env=0)
    got = scanwise.discounted_returns(one, discount=0.5)  # 1-D: dim is optional
    np.testing.assert_allclose(got.values, returns_loop(one.values, 0.5, None, 0.0))
    kw = {"discount": 0.9, "lam": 0.9, "dim": "time"}
    with pytest.raises(ValueError, match=r"values does not have the same 'time' coordinate "
                                         r"labels as rewards \(missing \[105\]"):
        scanwise.gae(r, v.isel(time=slice(0, 5)), nv, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"next_values .*'env' coordinate.*extra \['q'\]"):
        scanwise.gae(r, v, nv.assign_coords(env=["a", "b", "q"]), terminated=term, **kw)
    with pytest.raises(ValueError, match=r"terminated has dims \('env',\), without the time "
                                         r"dim 'time'"):
        scanwise.gae(r, v, nv, terminated=term.isel(time=0, drop=True), **kw)
    with pytest.raises(ValueError, match=r"lam has the time dim 'time'"):
        scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=r * 0, dim="time")
    with pytest.raises(ValueError, match=r"values has dims \('env',\) but rewards has dims"):
        scanwise.gae(r, v.isel(time=0, drop=True), nv, terminated=term, **kw)
    with pytest.raises(ValueError, match=r"dim must be given for a DataArray"):
        scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=0.9)
    with pytest.raises(ValueError, match=r"dim 'step' is not one of the dims of rewards"):
        scanwise.discounted_returns(r, discount=0.9, dim="step")
    with pytest.raises(ValueError, match=r"xarray input takes dim="):
        scanwise.discounted_returns(r, discount=0.9, axis=1)
    with pytest.raises(TypeError, match=r"values is a pandas DataFrame and rewards a xarray "
                                        r"DataArray"):
        scanwise.gae(r, v.to_pandas(), nv, terminated=term, **kw)
    with pytest.raises(TypeError, match=r"rewards is an xarray Dataset"):
        scanwise.discounted_returns(r.to_dataset(), discount=0.9, dim="time")


def test_dask_backed_dataarray_stays_lazy():
    pytest.importorskip("dask.array")
    r, v, nv, term = _dataarrays(9)
    adv, ret = scanwise.gae(r.chunk({"time": 2}), v.chunk({"time": 3}), nv, terminated=term,
                            discount=0.9, lam=0.8, dim="time")
    assert adv.chunks is not None
    want_a, want_r = gae_loop(r.values.T, v.values.T, nv.values.T, term.values.T, None,
                              0.9, 0.8)
    np.testing.assert_allclose(adv.values, want_a.T, rtol=1e-10)
    np.testing.assert_allclose(ret.values, want_r.T, rtol=1e-10)


def test_a_non_numeric_column_is_refused_naming_the_argument():
    r = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    v = pd.DataFrame({"a": ["x", "y", "z"]})
    with pytest.raises(TypeError, match="column 'a' of values has dtype"):
        scanwise.gae(r, v, r, terminated=np.zeros((3, 1), bool), discount=0.9, lam=0.9)
    with pytest.raises(TypeError, match="column 'a' of rewards has dtype"):
        scanwise.discounted_returns(v, discount=0.9)
