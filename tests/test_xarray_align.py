"""xarray inputs are paired by coordinate, as xarray pairs them.

``ewm_cov``/``ewm_corr`` align as ``xr.cov``/``xr.corr`` do (``join="inner"``), the
two-array scans as xarray's arithmetic (``arithmetic_join``, default ``"inner"``) on the
other dims, and in the template's order along the scan dim (same labels required).
Keyword DataArrays are reindexed to the input's coordinates, and refused with a
``ValueError`` naming them when a label is missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scanwise

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")

RTOL = 1e-12


def _array(seed, times, stations=("a", "b", "c"), nan=0.0, name=None):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((len(stations), len(times)))
    data[rng.random(data.shape) < nan] = np.nan
    return xr.DataArray(
        data, dims=("station", "time"),
        coords={"station": list(stations), "time": list(times)}, name=name,
    )


# --- two inputs -------------------------------------------------------------------


def test_ewm_cov_corr_align_like_xr_cov():
    x = _array(0, [7, 1, 3, 5, 0, 2, 4, 6], nan=0.1)
    y = _array(1, [4, 3, 2, 1, 0, 9, 10, 7], stations=("c", "a"), nan=0.1).T
    for fn, method in [(scanwise.ewm_cov, "cov"), (scanwise.ewm_corr, "corr")]:
        got = fn(x, y, dim="time", alpha=0.3)
        X, Y = xr.align(x, y, join="inner")  # what xr.cov / xr.corr do first
        assert got.dims == X.dims
        xr.testing.assert_identical(got.coords.to_dataset(), X.coords.to_dataset())
        want = fn(X.values, Y.transpose(*X.dims).values, axis=1, alpha=0.3)
        np.testing.assert_allclose(got.values, want, rtol=RTOL)
        for s in X["station"].values:  # and pandas on the same pairs
            ps, qs = X.sel(station=s).to_pandas(), Y.sel(station=s).to_pandas()
            theirs = getattr(ps.ewm(alpha=0.3), method)(qs)
            np.testing.assert_allclose(got.sel(station=s).values, theirs.to_numpy(), rtol=RTOL)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n_t=st.integers(2, 10), shift=st.integers(0, 3))
def test_random_permutations_of_coords(seed, n_t, shift):
    rng = np.random.default_rng(seed)
    x = _array(seed, list(rng.permutation(n_t)), nan=0.15)
    y = _array(seed + 1, list(rng.permutation(n_t) + shift),
               stations=list(rng.permutation(["a", "b", "c"])), nan=0.15)
    got = scanwise.ewm_corr(x, y, dim="time", com=1.0)
    X, Y = xr.align(x, y, join="inner")
    want = scanwise.ewm_corr(X.values, Y.values, axis=1, com=1.0)
    np.testing.assert_allclose(got.values, want, rtol=RTOL)
    assert got.indexes["time"].equals(X.indexes["time"])


def test_linear_recurrence_follows_xarray_arithmetic_off_the_scan_dim():
    a = _array(2, [7, 1, 3, 5, 0, 2, 4, 6])
    a = abs(a) / 3
    b = _array(3, [4, 3, 2, 1, 0, 5, 6, 7], stations=("c", "b", "d")).T
    for join in ["inner", "outer"]:
        with xr.set_options(arithmetic_join=join):
            got = scanwise.linear_recurrence(a, b, dim="time")
            product = a * b  # xarray's own pairing of the stations
        assert got.dims == b.dims
        assert got.indexes["station"].equals(product.indexes["station"])
        assert list(got.indexes["time"]) == list(b.indexes["time"])  # b's time order
        A, B = xr.align(a.reindex(time=b.indexes["time"]), b, join=join)
        B = B.transpose(*A.dims).values
        h, want = np.zeros(B.shape[0]), []  # the loop over b's steps
        for t in range(B.shape[1]):
            h = A.values[:, t] * h + B[:, t] if t else B[:, 0]
            want.append(h)
        np.testing.assert_allclose(got.transpose(*A.dims).values, np.stack(want, 1),
                                   rtol=RTOL)
    got = scanwise.discounted_cumsum(b, a.isel(station=0, drop=True), dim="time")
    assert got.indexes["time"].equals(b.indexes["time"])


def test_two_array_scans_refuse_other_labels_along_the_scan_dim():
    a = _array(2, [7, 1, 3, 5])
    b = _array(3, [4, 3, 2, 1])
    with pytest.raises(ValueError, match="a and b have different labels along time"):
        scanwise.linear_recurrence(a, b, dim="time")
    with pytest.raises(ValueError, match="discount and x have different labels"):
        scanwise.discounted_cumsum(b, a.isel(station=0, drop=True), dim="time")


def test_the_result_has_every_inputs_dims():
    x = _array(4, range(6)).isel(station=0, drop=True)  # dims (time,)
    y = _array(5, [5, 4, 3, 2, 1, 0]).T  # dims (time, station)
    got = scanwise.ewm_cov(x, y, dim="time", span=3)
    assert got.dims == (x * y).dims
    X, Y = xr.broadcast(*xr.align(x, y, join="inner"))
    want = scanwise.ewm_cov(X.values, Y.transpose(*X.dims).values, axis=0, span=3)
    np.testing.assert_allclose(got.transpose(*X.dims).values, want, rtol=RTOL)


def test_datasets_are_aligned_as_a_whole():
    x = _array(6, [3, 1, 2, 0])
    y = _array(7, [0, 1, 2, 3, 4], stations=("b", "a"))
    ds1 = xr.Dataset({"u": x, "v": 2 * x})
    ds2 = xr.Dataset({"u": y, "v": y - 1})
    got = scanwise.ewm_cov(ds1, ds2, dim="time", alpha=0.5)
    D1, D2 = xr.align(ds1, ds2, join="inner")
    for name in ("u", "v"):
        want = scanwise.ewm_cov(D1[name].values, D2[name].values, axis=1, alpha=0.5)
        np.testing.assert_allclose(got[name].values, want, rtol=RTOL)
        assert got[name].indexes["time"].equals(D1.indexes["time"])


# --- keyword DataArrays -----------------------------------------------------------


def test_keyword_dataarrays_are_aligned_by_coordinate():
    labels = [5, 2, 7, 0, 3, 1, 6, 4]  # an unsorted time coordinate (sample ids)
    arr = _array(8, labels, stations=("c", "a", "b"))
    flags = np.array([0, 0, 1, 0, 0, 1, 0, 0], bool)
    reset = xr.DataArray(flags, dims="time", coords={"time": labels})
    initial = xr.DataArray([1.0, 2.0, 3.0], dims="station", coords={"station": ["c", "a", "b"]})
    want = scanwise.cumsum(arr.values, axis=1, reset=np.broadcast_to(flags, arr.shape),
                           initial=initial.values)
    got = scanwise.cumsum(arr, dim="time", reset=reset.sortby("time"),
                          initial=initial.sortby("station"))
    np.testing.assert_array_equal(got.values, want)
    # times by coordinate, too
    when = pd.date_range("2024-01-01", periods=8, freq="17min").to_numpy()
    times = xr.DataArray(when, dims="time", coords={"time": labels})
    want = scanwise.ewm_mean(arr.values, axis=1, halflife="30min", times=when)
    got = scanwise.ewm_mean(arr, dim="time", halflife="30min", times=times.sortby("time"))
    np.testing.assert_allclose(got.values, want, rtol=RTOL)


def test_keywords_follow_the_aligned_inputs():
    x = _array(9, [3, 2, 1, 0])
    y = _array(10, [0, 1, 2, 3, 4])
    reset = xr.DataArray([True, False, True, False], dims="time", coords={"time": [0, 1, 2, 3]})
    got = scanwise.ewm_cov(x, y, dim="time", alpha=0.5, reset=reset)
    X, Y = xr.align(x, y, join="inner")
    r = np.broadcast_to(reset.sel(time=X["time"]).values, X.shape)
    want = scanwise.ewm_cov(X.values, Y.values, axis=1, alpha=0.5, reset=r)
    np.testing.assert_allclose(got.values, want, rtol=RTOL)


# --- refused --------------------------------------------------------------------


def test_xarray_alignment_errors():
    arr = _array(11, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"^reset has no value for the input's 'time' label"):
        scanwise.cumsum(arr, dim="time",
                        reset=xr.DataArray([True, False, False], dims="time",
                                           coords={"time": [0, 1, 2]}))
    with pytest.raises(ValueError, match=r"^initial has no value for the input's 'station'"):
        scanwise.cumsum(arr, dim="time",
                        initial=xr.DataArray([1.0, 2.0], dims="station",
                                             coords={"station": ["a", "b"]}))
    with pytest.raises(ValueError, match="times has duplicate labels along 'time'"):
        scanwise.ewm_mean(arr, dim="time", halflife=1.0,
                          times=xr.DataArray([0.0, 1, 2, 3], dims="time",
                                             coords={"time": [0, 0, 1, 2]}))
    with pytest.raises(ValueError, match="reset has dim 'member', which the input"):
        scanwise.cumsum(arr, dim="time",
                        reset=xr.DataArray(np.zeros((4, 2), bool), dims=("time", "member")))
    other = _array(12, [3, 2, 1, 0])
    with pytest.raises(ValueError, match="reset is a positional array, but the inputs were"):
        scanwise.ewm_cov(other, arr, dim="time", span=3, reset=np.eye(3, 4, dtype=bool))
    dup = _array(13, [0, 0, 1, 2])
    with pytest.raises(ValueError, match="duplicate values"):  # xarray's own refusal
        scanwise.ewm_cov(arr, dup, dim="time", span=3)
