"""pandas, polars and xarray inputs of the RL estimators (the rules are in
:mod:`scanwise.rl`'s docstring: the same labels in any order, the reference's type and
labels back).

:func:`adapt` is this adapter's entry (:mod:`scanwise.backends`): ``gae``,
``discounted_returns`` take labelled inputs (``lambda_returns`` calls ``gae``); the newer estimators
refuse them by name rather than pair them by position (a plausible wrong number).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import dask as _dask
from . import frames as _frames
from . import polars as _polars
from . import tensors as _torch

#: per labelled estimator: its arrays, flags, rates and states (by argument name)
_SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "gae": (("rewards", "values", "next_values"), ("terminated", "done", "valid"),
            ("discount", "lam"), ()),
    "discounted_returns": (("rewards",), ("done", "valid"), ("discount",), ("bootstrap",)),
}
_UNLABELLED = frozenset({"vtrace", "n_step_returns", "off_policy_returns"})


def adapt(fn: Callable[..., Any], op: str, **_options: Any) -> Callable[..., Any]:
    """``fn`` taking labelled inputs (or refusing them, for the newer estimators)."""
    if op not in _SPECS and op not in _UNLABELLED:
        return fn
    names = [p.name for p in inspect.signature(fn).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("dim") is None and not _frames.any_frame(*args, *kwargs.values()):
            return fn(*args, **kwargs)
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        if op in _UNLABELLED:
            _unlabelled(op, given.values())
            return fn(*args, **kwargs)
        arrays, flags, rates, states = (
            {n: given.get(n) for n in group} for group in _SPECS[op]
        )
        return _labelled(fn, op, arrays, flags, rates, states, given.get("axis", 0),
                         given.get("dim"), given.get("out"))

    return wrapper


def _unlabelled(fname: str, args: Any) -> None:
    for arg in args:
        if _frames.kind(arg) is not None:
            raise TypeError(
                f"scanwise.{fname} takes NumPy arrays, torch tensors or dask arrays, got a "
                f"{_what(arg)}: pass its values (e.g. .to_numpy()) in the time order of "
                "rewards"
            )




def _labelled(
    fn: Callable[..., Any],
    op: str,
    arrays: dict[str, Any],
    flags: dict[str, Any],
    rates: dict[str, Any],
    states: dict[str, Any],
    axis: Any,
    dim: Any,
    out: Any,
) -> Any:
    """``fn`` (:func:`gae` or :func:`discounted_returns`) on labelled inputs: each
    argument converted to NumPy by the pairing rule, ``fn``'s NumPy path, the results
    wrapped back as the reference's type."""
    _refuse_lazy({**arrays, **flags, **rates, **states}, op)
    ref = _reference(arrays)
    if ref is None:  # labelled keywords beside unlabelled inputs: by position, as before
        if dim is not None:
            raise ValueError("dim= is for xarray inputs; use axis= for arrays")
        conv = {n: _plain(a, n, flag=n in flags) for n, a in {**arrays, **flags}.items()}
        conv.update((n, _plain(a, n)) for n, a in {**rates, **states}.items())
        return fn(**conv, axis=axis, **({} if out is None else {"out": out}))
    name, like, kind = ref
    if out is not None:
        raise TypeError(
            f"out= takes NumPy arrays; it is not supported with {_what(like)} input "
            f"({name}); the result is a new {_what(like)}"
        )
    if kind == "xarray":
        conv, ax, back = _xarray_args(name, like, arrays, flags, rates, states, axis, dim)
    else:
        if dim is not None:
            raise ValueError("dim= is for xarray inputs; use axis= for arrays")
        if axis not in (None, 0):
            raise ValueError(
                f"axis must be None or 0 for {_what(like)} input (time runs along the "
                f"rows), got {axis!r}"
            )
        args = _pandas_args if kind == "pandas" else _polars_args
        conv, back = args(name, like, arrays, flags, rates, states)
        ax = 0
    result = fn(**conv, axis=ax)
    return tuple(back(r) for r in result) if isinstance(result, tuple) else back(result)


def _what(obj: Any) -> str:
    return f"{type(obj).__module__.split('.')[0]} {type(obj).__name__}"


def _reference(arrays: dict[str, Any]) -> tuple[str, Any, str] | None:
    """The input whose type and labels the result takes: the first DataArray, else the
    first pandas object, else the first polars one, among the per-step arrays."""
    kinds = {n: _frames.kind(a) for n, a in arrays.items()}
    for kind in ("xarray", "pandas", "polars"):
        name = next((n for n, k in kinds.items() if k == kind), None)
        if name is not None:
            return name, arrays[name], kind
    return None


def _refuse_lazy(values: dict[str, Any], fname: str) -> None:
    pl = sys.modules.get("polars")
    xr = sys.modules.get("xarray")
    for name, val in values.items():
        if pl is not None and isinstance(val, (pl.LazyFrame, pl.Expr)):
            raise TypeError(
                f"{name} is a polars {type(val).__name__}; scanwise.{fname} takes eager "
                "polars Series/DataFrames: .collect() the LazyFrame (select the columns) "
                "first"
            )
        if xr is not None and isinstance(val, xr.Dataset):
            raise TypeError(
                f"{name} is an xarray Dataset; scanwise.{fname} takes DataArrays: pass "
                f"its variables (e.g. ds['{name}'])"
            )


def _plain(value: Any, name: str, flag: bool = False) -> Any:
    """A labelled object with no labelled input to meet, as its values (by position)."""
    kind = _frames.kind(value)
    if kind == "pandas":
        return _frames.to_numpy(value, name)
    if kind == "polars":
        return _polars.flags(value, name) if flag else _polars.to_numpy(value, name)
    if kind == "xarray":
        return value.values
    return value


def _positional(value: Any, name: str, ref: str, like: Any, flag: bool = False) -> Any:
    """An argument without labels of the reference's kind: by position (NumPy, lists,
    polars objects beside pandas ones); objects whose pairing would be a guess are
    refused."""
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, list)):
        return value
    kind = _frames.kind(value)
    mine = _frames.kind(like)
    if _torch.is_tensor(value) or (_dask.any_dask(value) and mine != "xarray"):
        raise TypeError(
            f"{name} is a {_what(value)} and {ref} a {_what(like)}: they do not mix; "
            f"pass {name} as a NumPy array or a {_what(like)}"
        )
    if kind is None:
        return value
    if mine == "xarray" or kind == "xarray":
        raise TypeError(
            f"{name} is a {_what(value)} and {ref} a {_what(like)}: their labels cannot be "
            f"paired; convert {name} to a {_what(like)} (or a NumPy array) first"
        )
    return _plain(value, name, flag)  # polars beside pandas, pandas beside polars keywords


def _same_labels(have: Any, want: Any, what: str, name: str, ref: str) -> bool:
    """Whether ``have`` (``name``'s labels) must be reindexed to ``want`` (``ref``'s):
    False when equal, True when the same labels in another order; ValueError naming
    ``name`` when they differ as sets or a reordering meets duplicate labels."""
    if have.equals(want):
        return False
    if not (have.is_unique and want.is_unique):
        raise ValueError(
            f"{name} and {ref} have different {what} labels and one of them has duplicates, "
            f"so {name} cannot be matched to {ref} by label; give both the same {what} "
            "(identical labels, duplicates included, pair row by row) or unique labels"
        )
    missing = want[~np.asarray(want.isin(have))]
    extra = have[~np.asarray(have.isin(want))]
    if len(missing) or len(extra):
        parts = [f"{label} {list(idx[:3])}{' ...' if len(idx) > 3 else ''}"
                 for label, idx in (("missing", missing), ("extra", extra)) if len(idx)]
        raise ValueError(
            f"{name} does not have the same {what} labels as {ref} ({', '.join(parts)}): "
            "the RL estimators need every input at every step (and env), so labelled "
            "inputs must carry the same labels, in any order (they are matched by label); "
            f"select or reindex {name} to the labels of {ref} first"
        )
    return True


# pandas


def _pd_labels(obj: Any, axis: str, want: Any, what: str, name: str, ref: str) -> Any:
    have = obj.index if axis == "index" else obj.columns
    return obj.reindex(**{axis: want}) if _same_labels(have, want, what, name, ref) else obj


def _pd_match(obj: Any, like: Any, name: str, ref: str) -> Any:
    obj = _pd_labels(obj, "index", like.index, "index (row)", name, ref)
    if obj.ndim == 2:
        obj = _pd_labels(obj, "columns", like.columns, "column", name, ref)
    return obj


def _pandas_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any],
) -> tuple[dict[str, Any], Callable[[np.ndarray], Any]]:
    pd = sys.modules["pandas"]
    frame = (pd.Series, pd.DataFrame)
    wide = like.ndim == 2
    what = type(like).__name__
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, frame):
            if a.ndim != like.ndim:
                raise ValueError(
                    f"{name} is a {type(a).__name__} but {ref} is a {what}: {name} needs a "
                    f"value at every step{' of every env (column)' if wide else ''}, so give "
                    f"it as a {what} with the labels of {ref}"
                )
            conv[name] = _frames.to_numpy(_pd_match(a, like, name, ref), name)
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, pd.DataFrame):
            if not wide:
                raise ValueError(
                    f"{name} is a DataFrame but {ref} is a Series: pass a Series of flags, "
                    "one per step"
                )
            conv[name] = _frames.to_numpy(_pd_match(f, like, name, ref), name)
        elif isinstance(f, pd.Series):
            arr = _frames.to_numpy(
                _pd_labels(f, "index", like.index, "index (row)", name, ref), name)
            conv[name] = arr[:, None] if wide else arr  # one flag per row
        else:
            conv[name] = _row_flags(_positional(f, name, ref, like, flag=True), like)
    for name, val in {**rates, **states}.items():
        if isinstance(val, frame) and not wide:
            raise TypeError(
                f"{name} is a pandas {type(val).__name__} but {ref} is a Series (one env): "
                "pass a number"
            )
        if isinstance(val, pd.DataFrame):
            if name in rates:
                raise TypeError(
                    f"{name} must be a number or a pandas Series with one rate per column "
                    f"of {ref} (indexed by the column labels), got a DataFrame"
                )
            if len(val) != 1:
                raise ValueError(
                    f"{name} as a DataFrame must have exactly one row (one value per "
                    f"column), got {len(val)} rows"
                )
            val = _pd_labels(val, "columns", like.columns, "column", name, ref)
            conv[name] = _frames.to_numpy(val, name)[0]
        elif isinstance(val, pd.Series):  # one value per column, by column label
            val = _pd_labels(val, "index", like.columns, "column", name, ref)
            conv[name] = _frames.to_numpy(val, name)
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, lambda result: _frames.wrap(result, like)


def _row_flags(value: Any, like: Any) -> Any:
    """A 1-D flag array beside a DataFrame marks its rows (one flag per step)."""
    if len(like.shape) == 2 and np.ndim(value) == 1 and len(value) == like.shape[0]:
        return np.asarray(value)[:, None]
    return value


# polars (no index: by position, as polars' own frame arithmetic)


def _polars_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any],
) -> tuple[dict[str, Any], Callable[[np.ndarray], Any]]:
    pl = sys.modules["polars"]
    frame = (pl.Series, pl.DataFrame)
    wide = isinstance(like, pl.DataFrame)
    what = type(like).__name__
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, frame):
            if isinstance(a, pl.DataFrame) != wide:
                raise ValueError(
                    f"{name} is a polars {type(a).__name__} but {ref} is a {what}: {name} "
                    f"needs a value at every step{' of every env (column)' if wide else ''}, "
                    f"so give it as a {what} of the shape of {ref}"
                )
            conv[name] = _polars.to_numpy(a, name)
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, frame):
            conv[name] = _row_flags(_polars.flags(f, name), like)
        else:
            conv[name] = _row_flags(_positional(f, name, ref, like, flag=True), like)
    for name, val in {**rates, **states}.items():
        if isinstance(val, frame) and not wide:
            raise TypeError(
                f"{name} is a polars {type(val).__name__} but {ref} is a Series (one env): "
                "pass a number"
            )
        if isinstance(val, pl.DataFrame):
            if name in rates:
                raise TypeError(
                    f"{name} must be a number or a polars Series with one rate per column "
                    f"of {ref}, got a DataFrame"
                )
            if val.height != 1:
                raise ValueError(
                    f"{name} as a DataFrame must have exactly one row (one value per "
                    f"column), got {val.height} rows"
                )
            conv[name] = _polars.to_numpy(val, name)[0]
        elif isinstance(val, pl.Series):
            conv[name] = _polars.to_numpy(val, name)
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, lambda result: _polars.wrap(result, like)


# xarray (by coordinate, along dim=)


def _xr_match(obj: Any, like: Any, name: str, ref: str) -> Any:
    """``obj`` reindexed to ``like``'s coordinates (the same labels, any order)."""
    for d in obj.dims:
        if d not in like.dims:
            raise ValueError(f"{name} has dim {d!r}, which {ref} (dims {like.dims}) lacks")
        if d in obj.indexes and d in like.indexes:
            if _same_labels(obj.indexes[d], like.indexes[d], f"{d!r} coordinate", name, ref):
                obj = obj.reindex({d: like.indexes[d]})
        elif obj.sizes[d] != like.sizes[d]:
            raise ValueError(
                f"{name} has {obj.sizes[d]} entries along {d!r} but {ref} has "
                f"{like.sizes[d]}"
            )
    return obj


def _xarray_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any], axis: Any, dim: Any,
) -> tuple[dict[str, Any], int, Callable[[Any], Any]]:
    xr = sys.modules["xarray"]
    if axis not in (None, 0):
        raise ValueError(f"xarray input takes dim= (a dimension name), not axis={axis!r}")
    if dim is None:
        if like.ndim != 1:
            raise ValueError(f"dim must be given for a DataArray with dims {like.dims}")
        dim = like.dims[0]
    if dim not in like.dims:
        raise ValueError(f"dim {dim!r} is not one of the dims of {ref} {like.dims}")
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, xr.DataArray):
            if set(a.dims) != set(like.dims):
                raise ValueError(
                    f"{name} has dims {a.dims} but {ref} has dims {like.dims}: {name} needs a "
                    f"value at every step of every env, so give it the dims of {ref}"
                )
            conv[name] = _xr_match(a, like, name, ref).transpose(*like.dims).data
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, xr.DataArray):
            if dim not in f.dims:
                raise ValueError(
                    f"{name} has dims {f.dims}, without the time dim {dim!r}: flags mark "
                    f"steps, so give {name} the dim {dim!r} (other dims may be left out: "
                    "one flag per step shared by them)"
                )
            f = _xr_match(f, like, name, ref)
            conv[name] = f.broadcast_like(like).transpose(*like.dims).data
        else:
            conv[name] = _positional(f, name, ref, like, flag=True)
    rest = like.isel({dim: 0}, drop=True)
    for name, val in {**rates, **states}.items():
        if isinstance(val, xr.DataArray):
            if dim in val.dims:
                raise ValueError(
                    f"{name} has the time dim {dim!r}, but it is one value per env: give "
                    f"it only (some of) the other dims {rest.dims}"
                )
            val = _xr_match(val, like, name, ref)
            conv[name] = val.broadcast_like(rest).transpose(*rest.dims).values
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, like.get_axis_num(dim), lambda result: like.copy(data=result)
