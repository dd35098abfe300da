"""pandas, polars and xarray adapters: their objects in, the same type out.

xarray ``DataArray``/``Dataset`` inputs take ``dim="time"`` instead of ``axis``; the result
keeps dims, coords, attrs and name, and stays dask-backed when the input is (then the
scan itself is :mod:`scanwise._dask`'s).  A Dataset is scanned variable by variable
(variables without ``dim`` are kept as they are).  ``reset``/``initial`` may be
DataArrays (broadcast against the input); ``times`` may be a DataArray or the name of a
coordinate.

For these objects time runs along the rows, so ``axis`` is not needed (0 is accepted).
The result keeps the index, the column names and the Series name.  Neither library is
imported by scanwise: an object can only be a pandas (polars) object if the user has
imported pandas (polars), so the check looks in ``sys.modules``.

Conversions: columns go through ``to_numpy()``; pandas nullable dtypes (``Float64``,
``Int64``, ...) become float64 with NaN for ``NA``; polars nulls become NaN in float
columns.  Results are plain NumPy dtypes.  Keyword arrays may be frames too: ``reset``
(a 1-D one marks rows of a DataFrame), ``initial`` (one value per column), ``times`` (a
DatetimeIndex, a datetime Series or column).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _polars


def _ndim(obj: Any) -> int:
    return len(obj.shape)  # polars objects have no .ndim


def _kind(obj: Any) -> str | None:
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, (pd.Series, pd.DataFrame)):
        return "pandas"
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(obj, (pl.Series, pl.DataFrame)):
        return "polars"
    return None


def _is_series_like(obj: Any) -> bool:
    """A pandas/polars Series or Index (used for keyword arrays such as ``times``)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, (pd.Series, pd.Index)):
        return True
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(obj, pl.Series)


def to_numpy(obj: Any) -> np.ndarray:
    """The values of a pandas/polars object as a NumPy array (NA/null -> NaN)."""
    if _kind(obj) == "pandas":
        dtypes = [obj.dtype] if _ndim(obj) == 1 else list(obj.dtypes)
        if any(not isinstance(d, np.dtype) for d in dtypes):
            try:
                return obj.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                return obj.to_numpy()
        return obj.to_numpy()
    return _polars.to_numpy(obj)


def wrap(values: np.ndarray, like: Any) -> Any:
    """``values`` as an object of ``like``'s type, index and names."""
    if _kind(like) == "pandas":
        pd = sys.modules["pandas"]
        if _ndim(like) == 1:
            return pd.Series(values, index=like.index, name=like.name, copy=False)
        return pd.DataFrame(values, index=like.index, columns=like.columns, copy=False)
    return _polars.wrap(values, like)


def _keyword(name: str, value: Any, like: Any) -> Any:
    if name == "times":
        pl = sys.modules.get("polars")
        if pl is not None and isinstance(value, (pl.Series, pl.DataFrame)):
            return _polars.times(value)
        return value  # pandas Index/Series are handled (with time zones) by as_times
    if _kind(value) is not None or _is_series_like(value):
        value = to_numpy(value)
    if name == "reset" and _ndim(like) == 2:
        arr = np.asarray(value)
        if arr.ndim == 1 and arr.shape[0] == like.shape[0]:
            return arr[:, None]  # one flag per row
    return value


def accepts_frames(template: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: let ``fn`` take pandas/polars objects as its positional arrays.

    ``template`` is the positional argument whose type, index and names the result
    takes when it is a frame (``b`` for ``linear_recurrence``).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("dim") is None and all(type(a) is np.ndarray for a in args):
                kwargs.pop("dim", None)  # NumPy arrays: nothing to adapt (the usual case)
                return fn(*args, **kwargs)
            if any(_is_xarray(a) for a in args):
                return _xarray_call(fn, template, args, kwargs)
            if kwargs.get("dim") is not None:
                raise ValueError("dim= is for xarray inputs; use axis= for arrays")
            kwargs.pop("dim", None)
            if _polars.takes(args, kwargs, template):  # eager polars in; LazyFrame/Expr refused
                return _polars.call(fn, template, args, kwargs)
            kinds = [_kind(a) for a in args]
            if not any(kinds):
                return fn(*args, **kwargs)
            like = args[template] if kinds[template] else next(
                a for a, k in zip(args, kinds, strict=True) if k
            )
            if kwargs.get("axis") not in (None, 0):
                raise ValueError(
                    f"axis must be None or 0 for {type(like).__name__} input (time runs "
                    f"along the rows), got {kwargs['axis']!r}"
                )
            if kwargs.get("include_initial"):
                raise ValueError(
                    f"include_initial=True does not fit a {type(like).__name__}'s index; "
                    "pass a NumPy array"
                )
            if kwargs.get("out") is not None:
                raise ValueError(f"out= is for NumPy arrays, not {type(like).__name__} input")
            arrays = []
            for a, k in zip(args, kinds, strict=True):
                if k is None:
                    arrays.append(a)
                    continue
                arr = to_numpy(a)
                if arr.ndim == 1 and _ndim(like) == 2:
                    arr = arr[:, None]  # a Series beside a DataFrame: one value per row
                arrays.append(arr)
            kw = {n: _keyword(n, val, like) for n, val in kwargs.items()}
            kw["axis"] = 0
            result = fn(*arrays, **kw)
            if isinstance(result, tuple):  # (values, state)
                return (wrap(result[0], like), *result[1:])
            return wrap(result, like)

        return wrapper

    return decorate


def _is_xarray(obj: Any) -> bool:
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(obj, (xr.DataArray, xr.Dataset))


def _xarray_call(
    fn: Callable[..., Any], template: int, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    import xarray as xr

    if kwargs.get("axis") is not None:
        raise ValueError("xarray input takes dim= (a dimension name), not axis=")
    if kwargs.get("include_initial"):
        raise ValueError("include_initial=True does not fit the input's coords; pass an array")
    if kwargs.get("out") is not None:
        raise ValueError("out= is for NumPy arrays, not xarray input")
    kwargs = {k: val for k, val in kwargs.items() if k != "axis"}
    dim = kwargs.pop("dim", None)
    t = template if _is_xarray(args[template]) else next(
        i for i, a in enumerate(args) if _is_xarray(a)
    )
    like = args[t]
    if isinstance(like, xr.Dataset):
        out = like.copy()
        for name, var in like.data_vars.items():
            if dim is None or dim in var.dims:
                sub = [a[name] if isinstance(a, xr.Dataset) else a for a in args]
                out[name] = _xarray_call(fn, t, tuple(sub), {**kwargs, "dim": dim})
        return out
    if dim is None:
        if like.ndim != 1:
            raise ValueError(f"dim must be given for a DataArray with dims {like.dims}")
        dim = like.dims[0]
    if dim not in like.dims:
        raise ValueError(f"dim {dim!r} is not one of the input's dims {like.dims}")
    arrays = []
    for a in args:
        if isinstance(a, xr.DataArray):
            a = xr.broadcast(a, like)[0].transpose(*like.dims).data
        arrays.append(a)
    kw: dict[str, Any] = {}
    for name, val in kwargs.items():
        if name == "times" and isinstance(val, str):
            val = like[val].values
        elif name == "times" and isinstance(val, xr.DataArray):
            val = val.values
        elif name == "initial" and isinstance(val, xr.DataArray):
            rest = [d for d in like.dims if d != dim]
            val = val.broadcast_like(like.isel({dim: 0}, drop=True)).transpose(*rest).data
            val = np.expand_dims(val, like.get_axis_num(dim)) if not _dask_backed(val) else (
                sys.modules["dask.array"].expand_dims(val, like.get_axis_num(dim)))
        elif isinstance(val, xr.DataArray):
            val = xr.broadcast(val, like)[0].transpose(*like.dims).data
        kw[name] = val
    result = fn(*arrays, axis=like.get_axis_num(dim), **kw)
    if isinstance(result, tuple):
        return (like.copy(data=result[0]), *result[1:])
    return like.copy(data=result)


def _dask_backed(value: Any) -> bool:
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(value, da.Array)
