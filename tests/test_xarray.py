"""xarray DataArray/Dataset inputs with dim= (NumPy- and dask-backed)."""

from __future__ import annotations

import numpy as np
import pytest

import scanwise

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
da = pytest.importorskip("dask.array")


def _array(rng, n_t=48):
    times = pd.date_range("2024-01-01", periods=n_t, freq="30min")
    data = rng.standard_normal((3, n_t))
    data[rng.random(data.shape) < 0.1] = np.nan
    return xr.DataArray(
        data,
        dims=("station", "time"),
        coords={"station": ["a", "b", "c"], "time": times, "height": ("station", [1, 2, 3])},
        attrs={"units": "K"},
        name="temp",
    )


@pytest.mark.parametrize("backing", ["numpy", "dask"])
def test_dataarray_keeps_coords_attrs_and_backing(rng, backing):
    arr = _array(rng)
    if backing == "dask":
        arr = arr.chunk({"time": 10, "station": 2})
    got = scanwise.ewm_mean(arr, dim="time", halflife="2h", times="time")
    assert got.dims == arr.dims and got.attrs == {"units": "K"} and got.name == "temp"
    assert got.coords.equals(arr.coords)
    assert isinstance(got.data, da.Array) == (backing == "dask")
    want = (
        arr.to_pandas().T.ewm(halflife="2h", times=arr["time"].values).mean().T.to_numpy()
    )
    np.testing.assert_allclose(got.values, want, rtol=1e-10)
    got = scanwise.cumsum(arr.fillna(0), dim="time", reverse=True)
    np.testing.assert_allclose(
        got.values, np.cumsum(arr.fillna(0).values[:, ::-1], axis=1)[:, ::-1], rtol=1e-12
    )


def test_dataset_and_keyword_dataarrays(rng):
    arr = _array(rng).fillna(0.0)
    ds = xr.Dataset({"temp": arr, "wind": arr * 2, "elev": ("station", [1.0, 2.0, 3.0])})
    reset = xr.DataArray(np.arange(48) % 12 == 0, dims="time")  # broadcast over stations
    initial = xr.DataArray([1.0, 2.0, 3.0], dims="station")
    got = scanwise.cumsum(ds, dim="time", reset=reset, initial=initial)
    assert set(got.data_vars) == {"temp", "wind", "elev"}
    xr.testing.assert_identical(got["elev"], ds["elev"])
    want = scanwise.cumsum(
        arr.values, axis=1, reset=np.broadcast_to(reset.values, (3, 48)),
        initial=initial.values,
    )
    np.testing.assert_array_equal(got["temp"].values, want)
    # a transposed second operand is aligned by dimension name
    cov = scanwise.ewm_cov(arr, arr.T * 2, dim="time", alpha=0.3)
    np.testing.assert_allclose(cov.values, 2 * scanwise.ewm_var(arr.values, axis=1, alpha=0.3))


def test_xarray_errors(rng):
    arr = _array(rng)
    with pytest.raises(ValueError, match="dim must be given"):
        scanwise.cumsum(arr)
    with pytest.raises(ValueError, match="dim 'day' is not one of"):
        scanwise.cumsum(arr, dim="day")
    with pytest.raises(ValueError, match="not axis="):
        scanwise.cumsum(arr, axis=1)
    with pytest.raises(ValueError, match="dim= is for xarray inputs"):
        scanwise.cumsum(np.ones(3), dim="time")
