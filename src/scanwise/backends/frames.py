"""pandas, polars and xarray adapters: their objects in, the same type out.

xarray ``DataArray``/``Dataset`` inputs take ``dim="time"`` instead of ``axis``; the result
keeps dims, coords, attrs and name, and stays dask-backed when the input is (then the
scan itself is :mod:`scanwise.backends.dask`'s).  A Dataset is scanned variable by variable
(variables without ``dim`` are kept as they are).  ``reset``/``initial`` may be
DataArrays; ``times`` may be a DataArray or the name of a coordinate.

For pandas/polars objects time runs along the rows, so ``axis`` is not needed (0 is
accepted).  The result keeps the index, the column names and the Series name.  Neither
library is imported by scanwise: an object can only be a pandas (polars) object if the
user has imported pandas (polars), so the check looks in ``sys.modules``.

Conversions: columns go through ``to_numpy()``; pandas nullable dtypes (``Float64``,
``Int64``, ...) become float64 with NaN for ``NA``; polars nulls become NaN in float
columns.  Results are plain NumPy dtypes.  Keyword arrays may be frames too: ``reset``
(a 1-D one marks rows of a DataFrame), ``initial``/``reset_value`` (one value per
column), ``times`` (a DatetimeIndex, a datetime Series or column).

Pairing by label
----------------
pandas and xarray objects are paired by their labels, never by position, wherever
pandas (xarray) would align them.  NumPy arrays, lists and polars objects (which have no
labels) beside them pair by position, as in pandas' ``s + ndarray``.

pandas, ``ewm_cov``/``ewm_corr`` (``x.ewm(...).cov(y)``, pandas' ``flex_binary_moment``
with ``pairwise=False``, its default when ``other`` is given):

* two Series: aligned on the outer join of their indexes (the union, sorted by pandas
  when the indexes differ; the scan runs in that order); the result has that index and
  the name both share (None if they differ, as pandas);
* two DataFrames: aligned on the outer join of index and columns; the result's columns
  are the union of both, a column in only one of them is all NaN;
* a Series and a DataFrame (either order): the Series pairs with every column, row by
  row; computed on the union of the indexes, the result keeps the DataFrame's index and
  columns (pandas reindexes to the DataFrame's rows);
* NaN masking: pandas masks each operand where the other is missing (``x + 0 * y``);
  scanwise's cov/corr count only the steps where both are present (infinities count as
  missing), which is the same; the rows the outer join adds are missing in one operand.

pandas, the two-array scans (``linear_recurrence(a, b)``, ``discounted_cumsum(x,
discount)``): time runs along the template's (``b``'s, ``x``'s) rows, in its order.  The
other operand must have the same row labels, in any order (it is reordered to the
template's); other labels are refused, since pandas' joined index would sort the steps
or scan across missing ones.  Columns follow pandas' binary arithmetic (the outer join;
a column in one operand only is all NaN).  A Series beside a DataFrame pairs with its
rows (``df.mul(s, axis=0)``, a per-step coefficient), not with its columns as ``df * s``
would.  The result takes the type of the DataFrame if there is one, and keeps the
template's name.

xarray: ``ewm_cov``/``ewm_corr`` align as ``xr.cov``/``xr.corr`` do, ``xr.align(x, y,
join="inner")``; the two-array scans as xarray's arithmetic, with the join of
``xr.set_options(arithmetic_join=...)`` (default ``"inner"``), except along the scan dim:
there, as for pandas, the coordinate must hold the template's labels (in any order) and
the scan runs in the template's order.  The result has every
input's dims (the template's first), as broadcasting arithmetic does; Datasets are
aligned as a whole before their variables are scanned.  Dims without coordinates pair
by position (xarray checks their sizes).

Keyword arrays are aligned to the (aligned) input: ``reset`` (a Series, or a DataFrame
on rows and columns; a DataArray on every dim with coordinates), ``initial`` and
``reset_value`` (a Series by column label, or a one-row DataFrame such as
``prev.iloc[[-1]]``; a DataArray on the non-time dims), ``times`` (a Series by its
index, a DataArray by its coordinate; a DatetimeIndex or an array stays positional).
Note that pandas itself uses ``times`` by position; here a ``times`` Series with the
input's index (``df["t"]``) is the same, one with other labels is aligned by them.
Labels the keyword has beyond the input's are dropped.

Refused with a ValueError, naming the argument, where pandas' (xarray's) pairing cannot
be reproduced or would be a guess:

* a keyword lacking one of the input's labels (nothing is filled in), or with duplicate
  labels that would have to be aligned;
* two inputs with different indexes where one has duplicate labels (pandas would pair
  every copy of a label with every copy in the other, a many-to-many join); inputs with
  the same index, duplicates included, pair row by row;
* two DataFrames with different columns where one has duplicate column labels (pandas
  raises too; the same columns, duplicates included, pair column by column);
* a positional (NumPy) ``reset``/``times``/``initial`` once the alignment changed the
  rows, columns or coordinates it would run along: its positions no longer say which
  label they meant (a scalar, or anything where nothing was reindexed, is fine);
* ``return_state=True`` for a Series and a DataFrame with different indexes in
  ``ewm_cov``/``ewm_corr``: the state after the union's last row does not continue the
  result, which keeps the DataFrame's rows only.

pandas' ``pairwise=True`` output (a MultiIndex frame of every column pair) is not
offered: ``ewm_cov``/``ewm_corr`` have no ``pairwise`` argument and compute pandas'
default for ``other`` given, ``pairwise=False``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import polars as _polars


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


def any_frame(*objs: Any) -> bool:
    """Whether any of ``objs`` is a pandas, polars (eager or lazy) or xarray object: the
    cheap gate of functions that adapt frames themselves (:mod:`scanwise.rl`).  Nothing
    is looked at unless one of those libraries is imported (``sys.modules``), and NumPy
    arrays, numbers and None are passed over by their exact type (polars' and xarray's
    ``isinstance`` checks cost far more than a set look-up)."""
    rest = [o for o in objs if type(o) not in _PLAIN]
    if not rest:
        return False
    types: tuple[type, ...] = ()
    pd = sys.modules.get("pandas")
    if pd is not None:
        types += (pd.Series, pd.DataFrame)
    pl = sys.modules.get("polars")
    if pl is not None:
        types += (pl.Series, pl.DataFrame, pl.LazyFrame, pl.Expr)
    xr = sys.modules.get("xarray")
    if xr is not None:
        types += (xr.DataArray, xr.Dataset)
    return bool(types) and any(isinstance(o, types) for o in rest)


_PLAIN = frozenset({np.ndarray, float, int, bool, type(None), np.float64, np.float32, np.bool_})


def kind(obj: Any) -> str | None:
    """``"pandas"``, ``"polars"`` (eager Series/DataFrame), ``"xarray"`` (DataArray or
    Dataset) or None."""
    return "xarray" if _is_xarray(obj) else _kind(obj)


def _is_series_like(obj: Any) -> bool:
    """A pandas/polars Series or Index (used for keyword arrays such as ``times``)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, (pd.Series, pd.Index)):
        return True
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(obj, pl.Series)


def to_numpy(obj: Any, name: str = "x") -> np.ndarray:
    """The values of a pandas/polars object as a NumPy array (NA/null -> NaN).

    pandas columns must hold numbers or booleans (NumPy or nullable/pyarrow numeric
    dtypes); text, categorical, datetime and object columns are refused with a
    ``TypeError`` naming the column, never parsed or coded as numbers."""
    if _kind(obj) == "pandas":
        if _ndim(obj) == 1:
            columns = [(obj.name, obj.dtype)]
        else:
            columns = list(obj.dtypes.items())
        for label, dt in columns:
            _check_pandas_dtype(dt, label, name, _ndim(obj) == 1)
        if any(not isinstance(d, np.dtype) for _, d in columns):
            return obj.to_numpy(dtype=np.float64, na_value=np.nan)
        return obj.to_numpy()
    return _polars.to_numpy(obj, name)


def _check_pandas_dtype(dt: Any, label: Any, name: str, series: bool) -> None:
    pd = sys.modules["pandas"]
    types = pd.api.types
    numeric = (
        not isinstance(dt, pd.CategoricalDtype)
        and (types.is_bool_dtype(dt) or types.is_numeric_dtype(dt))
        and not types.is_datetime64_any_dtype(dt) and not types.is_timedelta64_dtype(dt)
    )
    if not numeric:
        where = f"{name} (Series {label!r})" if series else f"column {label!r} of {name}"
        hint = (
            "times belong in times=, not in the data" if types.is_datetime64_any_dtype(dt)
            else "convert it first, e.g. with .astype(float)"
        )
        raise TypeError(f"{where} has dtype {dt}: scanwise needs numbers or booleans; {hint}")


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
        value = to_numpy(value, name)
    if name == "reset" and _ndim(like) == 2:
        arr = np.asarray(value)
        if arr.ndim == 1 and arr.shape[0] == like.shape[0]:
            return arr[:, None]  # one flag per row
    return value


_MOMENTS = frozenset({"ewm_cov", "ewm_corr"})  # pandas' ``ewm(...).cov(other)`` pairing


def accepts_frames(
    template: int = 0, pairing: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: let ``fn`` take pandas/polars/xarray objects as its positional arrays.

    ``template`` is the positional argument whose type, index and names the result
    takes when it is a frame (``b`` for ``linear_recurrence``).  ``pairing`` says how two
    labelled inputs are paired (see the module docstring): ``"arithmetic"`` (pandas'
    binary operators, xarray's ``arithmetic_join``) or ``"moment"`` (pandas'
    ``ewm(...).cov(other)``, ``xr.cov``); by default ``"moment"`` for ``ewm_cov`` and
    ``ewm_corr`` and ``"arithmetic"`` for everything else.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = pairing or ("moment" if fn.__name__ in _MOMENTS else "arithmetic")
        if mode not in ("arithmetic", "moment"):
            raise ValueError(f"pairing must be 'arithmetic' or 'moment', got {pairing!r}")
        names = _positional_names(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("dim") is None and all(type(a) is np.ndarray for a in args):
                kwargs.pop("dim", None)  # NumPy arrays: nothing to adapt (the usual case)
                return fn(*args, **kwargs)
            if any(_is_xarray(a) for a in args):
                return _xarray_call(fn, template, args, kwargs, mode)
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
            if _kind(like) == "pandas":
                if isinstance(kwargs.get("times"), str):
                    return _pandas_times_column(fn, template, args, kinds, kwargs, mode, names)
                return _pandas_call(fn, template, args, kinds, kwargs, mode, names)
            return _polars.call(fn, template, args, kwargs)

        return wrapper

    return decorate


def _positional_names(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``fn``'s positional arrays (``x``, ``y``; ``a``, ``b``), for messages."""
    params = inspect.signature(fn).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY)


def _name(names: tuple[str, ...], i: int) -> str:
    return names[i] if i < len(names) else f"argument {i}"


# --- pandas: label alignment -------------------------------------------------------


def _pandas_times_column(
    fn: Callable[..., Any],
    template: int,
    args: tuple[Any, ...],
    kinds: list[str | None],
    kwargs: dict[str, Any],
    mode: str,
    names: tuple[str, ...],
) -> Any:
    """``times="t"`` names a column of the DataFrame input: that column gives the times
    (aligned on the rows like a ``times`` Series), is not scanned, and comes back
    unchanged in its place (as for polars frames)."""
    pd = sys.modules["pandas"]
    col = kwargs["times"]
    frames = [a for a in args if isinstance(a, pd.DataFrame)]
    if not frames:
        raise TypeError(f"times={col!r} names a column, which needs a DataFrame input")
    if col not in frames[0].columns:
        raise ValueError(f"times={col!r} is not a column of the input {list(frames[0].columns)}")
    stamps = frames[0][col]
    if isinstance(stamps, pd.DataFrame):
        raise ValueError(f"times={col!r} names {stamps.shape[1]} columns; it must name one")
    dropped = tuple(
        a.drop(columns=col) if isinstance(a, pd.DataFrame) and col in a.columns else a
        for a in args
    )
    result = _pandas_call(fn, template, dropped, kinds, {**kwargs, "times": stamps}, mode,
                          names)
    values, rest = (result[0], result[1:]) if isinstance(result, tuple) else (result, ())
    if isinstance(values, pd.DataFrame):
        values = values.copy()
        values.insert(min(list(frames[0].columns).index(col), values.shape[1]), col,
                      stamps.reindex(values.index))
    return (values, *rest) if rest else values


def _pandas_call(
    fn: Callable[..., Any],
    template: int,
    args: tuple[Any, ...],
    kinds: list[str | None],
    kwargs: dict[str, Any],
    mode: str,
    names: tuple[str, ...],
) -> Any:
    """``fn`` on pandas inputs paired by label (the module docstring's rules)."""
    labelled = [i for i, k in enumerate(kinds) if k == "pandas"]
    aligned = list(args)
    out_index = None
    if len(labelled) == 2:
        i, j = labelled
        aligned[i], aligned[j], out_index = _align_pair(
            args[i], args[j], (_name(names, i), _name(names, j)), mode,
            lead=1 if template == j else 0,
        )
    elif len(labelled) > 2:  # no public function has three positional arrays
        raise TypeError("at most two pandas inputs can be aligned")
    wide = [i for i in labelled if aligned[i].ndim == 2]
    t = template if kinds[template] == "pandas" else labelled[0]
    if wide and aligned[t].ndim == 1:
        t = wide[0]  # a Series beside a DataFrame: the result is a DataFrame
    like = aligned[t]
    if mode == "moment" and len(labelled) == 2 and not wide:  # pandas' name of x.ewm().cov(y)
        like = like.rename(_common_name(aligned[labelled[0]].name, aligned[labelled[1]].name))
    rows_changed = any(not args[i].index.equals(like.index) for i in labelled)
    cols_changed = like.ndim == 2 and any(
        args[i].ndim == 2 and not args[i].columns.equals(like.columns) for i in labelled
    )
    if out_index is not None and kwargs.get("return_state"):
        raise ValueError(
            "return_state=True: the DataFrame and the Series were aligned to the union of "
            f"their indexes ({len(like.index)} rows) and pandas' result keeps the "
            f"DataFrame's {len(out_index)} rows only, so the state after the union's last "
            "row would not continue the result; give both the same index first"
        )
    arrays = []
    for i, (a, k) in enumerate(zip(aligned, kinds, strict=True)):
        if k is None:
            arrays.append(a)
            continue
        arr = to_numpy(a, _name(names, i))
        if arr.ndim == 1 and like.ndim == 2:
            arr = arr[:, None]  # a Series beside a DataFrame: one value per row
        arrays.append(arr)
    kw = {
        n: _pandas_keyword(n, val, like, rows_changed, cols_changed)
        for n, val in kwargs.items()
    }
    kw["axis"] = 0
    columns = tuple(like.columns) if like.ndim == 2 else None
    if columns is not None and kw.get("state") is not None:
        kw["state"] = _state().for_columns(kw["state"], columns)
    result = fn(*arrays, **kw)
    if isinstance(result, tuple):  # (values, state): the state remembers the columns
        return (wrap(result[0], like), _state().labelled(result[1], columns))
    result = wrap(result, like)
    return result if out_index is None else result.reindex(out_index)


def _align_pair(
    p: Any, q: Any, names: tuple[str, str], mode: str, lead: int = 0
) -> tuple[Any, Any, Any]:
    """``p`` and ``q`` aligned as pandas would, and the index the result is reindexed to
    (None: the aligned one).  In ``"arithmetic"`` mode the rows (time) follow ``p``'s
    order (``lead=0``) or ``q``'s (``lead=1``), see :func:`_same_steps`."""
    rows_equal = p.index.equals(q.index)
    if not rows_equal:
        for obj, name in zip((p, q), names, strict=True):
            if not obj.index.is_unique:
                raise ValueError(
                    f"{names[0]} and {names[1]} have different indexes and {name}'s has "
                    "duplicate labels: pandas would pair every copy of a label with every "
                    "copy in the other (a many-to-many join), which scanwise does not "
                    "reproduce; make the labels unique, or give both the same index"
                )
        if mode == "arithmetic":
            _per_column_series(p, q, names)
            pair = [p, q]
            pair[1 - lead] = _same_steps(pair[lead], pair[1 - lead], names[lead],
                                         names[1 - lead], pair[lead].index, "index")
            p, q = pair
            rows_equal = True
    if p.ndim == 2 and q.ndim == 2:
        cols_equal = p.columns.equals(q.columns)
        if not cols_equal:
            for obj, name in zip((p, q), names, strict=True):
                if not obj.columns.is_unique:
                    raise ValueError(
                        f"{name}'s columns are not unique, so {names[0]} and {names[1]} "
                        "cannot be paired by column label (pandas raises too); give both "
                        "the same columns or make the labels unique"
                    )
        if rows_equal and cols_equal:
            return p, q, None
        p, q = p.align(q, join="outer")
        if mode == "moment":  # flex_binary_moment: the union of the columns
            columns = p.columns.union(q.columns)
            if not p.columns.equals(columns):
                p, q = p.reindex(columns=columns), q.reindex(columns=columns)
        return p, q, None
    if rows_equal:
        return p, q, None
    if p.ndim == 2 or q.ndim == 2:  # a Series beside a DataFrame pairs with its rows
        frame = p if p.ndim == 2 else q
        if p.ndim == 2:
            p, q = p.align(q, join="outer", axis=0)
        else:
            q, p = q.align(p, join="outer", axis=0)
        # pandas' ewm cov/corr computes on the union, then keeps the DataFrame's rows
        return p, q, frame.index if mode == "moment" else None
    p, q = p.align(q, join="outer")
    return p, q, None


def _per_column_series(p: Any, q: Any, names: tuple[str, str]) -> None:
    """Refuse, with the fix, a Series labelled by the other operand's columns: beside a
    DataFrame a Series is one value per row (per step)."""
    for ser, frame, name in ((p, q, names[0]), (q, p, names[1])):
        if ser.ndim == 1 and frame.ndim == 2 and not ser.index.equals(frame.index) and (
            len(ser.index) == len(frame.columns) and ser.index.isin(frame.columns).all()
        ):
            raise ValueError(
                f"{name} is a Series labelled by the DataFrame's columns, but beside a "
                "DataFrame a Series holds one value per row (per step); for one value "
                f"per column pass {name}[df.columns].to_numpy() (positional, one per "
                "column)"
            )


def _same_steps(ref: Any, other: Any, ref_name: str, name: str, want: Any, what: str) -> Any:
    """``other`` reindexed to the steps ``want`` of ``ref`` (the scan's time order).

    A scan runs along time in the order of its template's rows, so an operand with the
    same labels in another order is reordered to it; an operand with other labels is
    refused: pandas' (xarray's) joined index would be sorted or would add or drop steps,
    silently scanning in another order or across a gap."""
    have = other.indexes[want.name] if what == "coordinate" else other.index
    if len(have) == len(want) and have.is_unique and want.is_unique and have.isin(want).all():
        if what == "coordinate":
            return other.reindex({want.name: want})
        return other.reindex(index=want)
    label = f"{what} {want.name!r}" if what == "coordinate" else "index"
    raise ValueError(
        f"{name} and {ref_name} have different labels along time ({label}): a scan runs "
        f"through the steps in {ref_name}'s order, and the joined labels would reorder "
        "steps or scan across missing ones; give both the same labels (in any order), "
        f"e.g. {name}.reindex(...) first"
    )


def _common_name(a: Any, b: Any) -> Any:
    """pandas' name of ``a + b`` for two Series: the common name, else None."""
    if a is b:
        return a
    try:
        same = a == b
    except Exception:  # names of any type: pandas falls back to None too
        return None
    return a if isinstance(same, (bool, np.bool_)) and same else None


def _relabel(value: Any, axis: str, target: Any, name: str, what: str) -> Any:
    """``value`` reindexed along ``axis`` ("index"/"columns") to ``target`` by label;
    ValueError naming ``name`` when a label is missing (no guessing) or duplicated."""
    have = value.index if axis == "index" else value.columns
    if have.equals(target):
        return value
    if not have.is_unique:
        raise ValueError(
            f"{name} has duplicate {what} labels, so it cannot be aligned to the input's "
            f"{what}s by label; give it the input's labels or pass a NumPy array"
        )
    found = np.asarray(target.isin(have))
    if not found.all():
        missing = list(target[~found][:3])
        more = " ..." if (~found).sum() > 3 else ""
        raise ValueError(
            f"{name} has no value for the input's {what} label(s) {missing}{more}: it is "
            f"aligned to the input by label, so give it every {what} label of the input "
            f"(e.g. {name}.reindex(..., fill_value=...)) or pass a NumPy array to pair "
            "it by position"
        )
    return value.reindex(**{axis: target})


def _positional_error(name: str, what: str, like: Any) -> ValueError:
    count = len(like.index) if what == "rows" else len(like.columns)
    return ValueError(
        f"{name} is a positional array, but the inputs were aligned on their labels "
        f"({count} {what}, in the order of the aligned labels), so its positions no "
        f"longer say which {what[:-1]} they belong to; give {name} as a pandas "
        f"{'Series' if what == 'rows' else 'Series indexed by column'} to align it too, "
        "or give the inputs the same labels first"
    )


def _pandas_keyword(
    name: str, value: Any, like: Any, rows_changed: bool, cols_changed: bool
) -> Any:
    """A keyword array for pandas input ``like``: pandas objects aligned by label,
    positional arrays checked against what the alignment changed."""
    pd = sys.modules["pandas"]
    wide = like.ndim == 2
    if name == "times":
        if isinstance(value, pd.Series):
            return _relabel(value, "index", like.index, name, "row")
        if (
            rows_changed and value is not None and np.ndim(value) >= 1
            and not (isinstance(value, pd.Index) and value.equals(like.index))
        ):
            raise _positional_error(name, "rows", like)
        return _keyword(name, value, like)
    if name == "reset":
        if isinstance(value, pd.DataFrame):
            if not wide:
                raise ValueError(
                    "reset is a DataFrame but the input is a Series: pass a Series of "
                    "flags, one per row"
                )
            value = _relabel(value, "index", like.index, name, "row")
            return to_numpy(_relabel(value, "columns", like.columns, name, "column"), name)
        if isinstance(value, pd.Series):
            arr = to_numpy(_relabel(value, "index", like.index, name, "row"), name)
            return arr[:, None] if wide else arr  # one flag per row
        if value is not None and _kind(value) is None:
            if rows_changed and np.ndim(value) >= 1:
                raise _positional_error(name, "rows", like)
            if cols_changed and np.ndim(value) >= 2:
                raise _positional_error(name, "columns", like)
        return _keyword(name, value, like)
    if name in ("initial", "reset_value"):
        if isinstance(value, pd.DataFrame):
            if not wide:
                raise ValueError(f"{name} is a DataFrame but the input is a Series: pass a number")
            if len(value) != 1:
                raise ValueError(
                    f"{name} as a DataFrame must have exactly one row (one value per "
                    f"column), got {len(value)} rows"
                )
            return to_numpy(_relabel(value, "columns", like.columns, name, "column"), name)[0]
        if isinstance(value, pd.Series) and wide:  # one value per column, by column label
            return to_numpy(_relabel(value, "index", like.columns, name, "column"), name)
        if (
            cols_changed and value is not None and _kind(value) is None
            and np.ndim(value) >= 1 and np.size(value) > 1
        ):
            raise _positional_error(name, "columns", like)
        return _keyword(name, value, like)
    return _keyword(name, value, like)


# --- xarray: coordinate alignment --------------------------------------------------


def _is_xarray(obj: Any) -> bool:
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(obj, (xr.DataArray, xr.Dataset))


def _xarray_call(
    fn: Callable[..., Any],
    template: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    mode: str = "arithmetic",
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
    labelled = [i for i, a in enumerate(args) if _is_xarray(a)]
    changed: set[Any] = set()  # dims whose labels the alignment changed
    if len(labelled) > 1:
        # xr.cov/xr.corr align with join="inner"; arithmetic with xarray's arithmetic_join
        join = "inner" if mode == "moment" else xr.get_options()["arithmetic_join"]
        if mode == "arithmetic":
            args = _xr_same_steps(args, template if _is_xarray(args[template]) else labelled[0],
                                  dim, _positional_names(fn))
        before = [args[i] for i in labelled]
        after = xr.align(*before, join=join, copy=False)
        for old, new in zip(before, after, strict=True):
            changed.update(d for d in new.indexes if not new.indexes[d].equals(old.indexes[d]))
        args = tuple(
            after[labelled.index(i)] if i in labelled else a for i, a in enumerate(args)
        )
    t = template if _is_xarray(args[template]) else labelled[0]
    like = args[t]
    if isinstance(like, xr.Dataset):
        out = like.copy()
        for name, var in like.data_vars.items():
            if dim is None or dim in var.dims:
                sub = [a[name] if isinstance(a, xr.Dataset) else a for a in args]
                out[name] = _xarray_call(fn, t, tuple(sub), {**kwargs, "dim": dim}, mode)
        return out
    if dim is None:
        if like.ndim != 1:
            raise ValueError(f"dim must be given for a DataArray with dims {like.dims}")
        dim = like.dims[0]
    if dim not in like.dims:
        raise ValueError(f"dim {dim!r} is not one of the input's dims {like.dims}")
    others = [a for a in args if isinstance(a, xr.DataArray)]
    if any(d not in like.dims for a in others for d in a.dims):
        # the result has every input's dims, as xarray's broadcasting arithmetic does
        like = xr.broadcast(like, *others)[0].transpose(*like.dims, ...)
    arrays = []
    for a in args:
        if isinstance(a, xr.DataArray):
            a = xr.broadcast(a, like)[0].transpose(*like.dims).data
        arrays.append(a)
    kw: dict[str, Any] = {}
    for name, val in kwargs.items():
        if name == "times" and isinstance(val, str):
            val = like[val].values
        elif isinstance(val, xr.DataArray):
            val = _xr_relabel(val, like, name)
            if name == "times":
                val = val.values
            elif name in ("initial", "reset_value"):
                rest = [d for d in like.dims if d != dim]
                val = val.broadcast_like(like.isel({dim: 0}, drop=True)).transpose(*rest).data
                val = np.expand_dims(val, like.get_axis_num(dim)) if not _dask_backed(val) else (
                    sys.modules["dask.array"].expand_dims(val, like.get_axis_num(dim)))
            else:
                if name == "reset" and dim not in val.dims:
                    # broadcasting would repeat one flag at every step
                    raise ValueError(
                        f"reset has dims {val.dims}, without the scan dim {dim!r}: flags "
                        f"mark steps, so give reset the dim {dim!r} (other dims may be "
                        "missing: one flag per step shared by every series)"
                    )
                val = xr.broadcast(val, like)[0].transpose(*like.dims).data
        elif changed and val is not None and name in _LABELLED_KEYWORDS:
            # dims a positional keyword runs along: reset all, times the scan dim,
            # initial/reset_value the others
            lost = {"reset": changed, "times": changed & {dim}}.get(name, changed - {dim})
            if lost and np.ndim(val) >= 1 and np.size(val) > 1:
                raise ValueError(
                    f"{name} is a positional array, but the inputs were aligned on their "
                    f"coordinates (dims {sorted(map(str, lost))} changed), so its "
                    f"positions no longer match; give {name} as a DataArray with those "
                    "coordinates to align it too, or align the inputs first"
                )
        kw[name] = val
    others = ("dims", *(
        (d, tuple(like.indexes[d]) if d in like.indexes else like.sizes[d])
        for d in like.dims if d != dim
    ))
    if kw.get("state") is not None:
        kw["state"] = _state().for_dims(kw["state"], others)
    result = fn(*arrays, axis=like.get_axis_num(dim), **kw)
    if isinstance(result, tuple):
        return (like.copy(data=result[0]), _state().labelled(result[1], others))
    return like.copy(data=result)


_LABELLED_KEYWORDS = frozenset({"reset", "times", "initial", "reset_value"})


def _xr_same_steps(args: tuple[Any, ...], t: int, dim: Any, names: tuple[str, ...]) -> Any:
    """The two-array scans' operands with the scan dim's coordinate in the template's
    order (see :func:`_same_steps`); the other dims are left to xarray's join."""
    ref = args[t]
    if dim is None:
        if ref.ndim != 1:
            return args  # _xarray_call asks for dim=
        dim = ref.dims[0]
    if dim not in ref.dims or dim not in ref.indexes:
        return args
    want = ref.indexes[dim]
    out = list(args)
    for k, a in enumerate(args):
        if k == t or not _is_xarray(a) or dim not in a.indexes or a.indexes[dim].equals(want):
            continue
        out[k] = _same_steps(ref, a, _name(names, t), _name(names, k), want.rename(dim),
                             "coordinate")
    return tuple(out)


def _xr_relabel(val: Any, like: Any, name: str) -> Any:
    """A keyword DataArray reindexed to ``like``'s coordinates by label; ValueError
    naming ``name`` when a label is missing (no guessing), duplicated, or a dim is not
    the input's."""
    for d in val.dims:
        if d not in like.dims:
            raise ValueError(f"{name} has dim {d!r}, which the input (dims {like.dims}) lacks")
        if d not in val.indexes or d not in like.indexes:
            continue  # no labels on one side: positional, sizes checked by xarray
        have, want = val.indexes[d], like.indexes[d]
        if have.equals(want):
            continue
        if not have.is_unique:
            raise ValueError(
                f"{name} has duplicate labels along {d!r}, so it cannot be aligned to the "
                "input's coordinates"
            )
        found = np.asarray(want.isin(have))
        if not found.all():
            missing = list(want[~found][:3])
            raise ValueError(
                f"{name} has no value for the input's {d!r} label(s) {missing}"
                f"{' ...' if (~found).sum() > 3 else ''}: it is aligned to the input by "
                f"coordinate, so give it every label of the input along {d!r}"
            )
        val = val.reindex({d: want})
    return val


def _dask_backed(value: Any) -> bool:
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(value, da.Array)


def adapt(fn: Callable[..., Any], op: str, template: int = 0, pairing: str | None = None,
          **_options: Any) -> Callable[..., Any]:
    """This adapter's entry (:mod:`scanwise.backends`): the core scans and the EWM
    statistics take pandas/polars/xarray objects (the RL estimators: :mod:`.frames_rl`)."""
    if op not in _FRAME_OPS:
        return fn
    return accepts_frames(template, pairing)(fn)


_FRAME_OPS = frozenset({
    "cumsum", "cumprod", "logcumsumexp", "linear_recurrence", "discounted_cumsum",
    "ewm_mean", "ewm_var", "ewm_std", "ewm_cov", "ewm_corr",
})


def _state() -> Any:
    """:mod:`scanwise.ewm.state` (the labels of an EWMState), imported on use: the
    adapters load while the families' modules are being defined."""
    from ..ewm import state

    return state
