"""Argument checking for the public API: every error names the argument at fault."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

_NUMERIC_KINDS = "biufc"


def as_numeric(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as an ndarray of booleans or numbers, else raise ``TypeError``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got a string")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr


def as_weak_scalar_or_array(value: Any, name: str) -> Any:
    """Keep Python numbers as they are (weak NumPy promotion); arrays must be numeric."""
    if isinstance(value, (bool, int, float, complex)):
        return value
    return as_numeric(value, name)


def scan_axis(axis: Any, ndim: int, name: str = "x") -> int:
    """Normalise ``axis`` like ``numpy.cumulative_sum``: optional only for 1-D input."""
    if ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d array")
    if axis is None:
        if ndim != 1:
            raise ValueError(
                f"axis must be given for {name} with ndim > 1 (got ndim={ndim}); pass axis=<int>"
            )
        return 0
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (numbers.Integral,)):
        raise TypeError(f"axis must be an integer or None, got {axis!r}")
    return normalize_axis_index(int(axis), ndim)


def flag(value: Any, name: str) -> bool:
    """A keyword that must be exactly True or False (not 0/1, not None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def accumulate_dtype(op: np.ufunc, x_dtype: np.dtype, dtype: Any, states: Any = ()) -> np.dtype:
    """NumPy's result dtype for ``cumsum``/``cumprod`` (``op`` add or multiply), promoted by
    the non-boolean ``states`` (see :func:`promoters`)."""
    if dtype is None:
        result = op.accumulate(np.zeros(1, dtype=x_dtype)).dtype
    else:
        result = result_dtype(dtype)
    for p in states:
        if not isinstance(p, (bool, np.bool_)) and not (
            isinstance(p, np.dtype) and p.kind == "b"
        ):
            result = np.result_type(result, p)
    return result


def promoters(*pairs: tuple[Any, np.ndarray | None]) -> list[Any]:
    """What each given state (``initial``, ``reset_value``) promotes the result by, as
    ``(what the user passed, its checked array)`` pairs: a Python number itself (weak,
    as NumPy treats it: ``initial=0.5`` keeps float32 in float32), else its dtype."""
    out: list[Any] = []
    for raw, arr in pairs:
        if arr is None:
            continue
        out.append(raw if isinstance(raw, (int, float, complex)) else arr.dtype)
    return out


def flags(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A boolean array broadcast to ``shape``; bool, or numbers that are all 0 or 1."""
    arr = _flag_array(value, name)
    if arr.dtype.kind == "b":
        pass
    elif arr.dtype.kind in "iuf":
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be boolean or contain only 0 and 1")
        arr = arr != 0
    else:
        raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    return broadcast(arr, shape, name)


def step_flags(value: Any, shape: tuple[int, ...], axis: int, name: str) -> np.ndarray:
    """:func:`flags` for flags that mark steps (``reset``, ``terminated``, ``done``): they
    must span the time axis.

    NumPy would broadcast a flag of shape ``(N,)`` against ``(T, N)`` as "true at every
    step", almost always a mistake, so the flag must have the input's number of
    dimensions and the input's length along ``axis``; the other axes may be 1 (one flag
    per step shared by every series).  A flag meant for every step can be given in full,
    e.g. ``np.broadcast_to(flag, shape)``.  A 1-D input needs a flag of its own length:
    a single flag (``[True]`` or ``True``) is refused as well, since it too would be
    broadcast to every step.
    """
    arr = _flag_array(value, name)
    spans_time(arr.shape, shape, axis, name)
    return flags(arr, shape, name)


def spans_time(flag_shape: tuple[int, ...], shape: tuple[int, ...], axis: int,
               name: str) -> None:
    """The shape rule of :func:`step_flags`, for flags known only by their shape (Dask)."""
    if len(flag_shape) != len(shape) or flag_shape[axis] != shape[axis]:
        raise ValueError(
            f"{name} with shape {flag_shape} does not span the time axis of the input "
            f"(shape {shape}, axis {axis}): flags mark steps, so give {name} the input's "
            f"{len(shape)} dimensions with length {shape[axis]} along axis {axis} "
            "(other axes may be 1, e.g. flags[:, None] for one flag per step shared "
            "by every series), or broadcast it on purpose with np.broadcast_to"
        )


def _flag_array(value: Any, name: str) -> np.ndarray:
    """``np.asarray`` of a flag argument."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a boolean array, got a string")
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a boolean array: {exc}") from None


def factor(value: Any, name: str) -> Any:
    """A coefficient of the general scans (``discount`` of :func:`discounted_cumsum`): a
    finite number or array of them.  Any finite value is allowed (a filter pole may
    exceed 1 or be negative); NaN and infinities are refused.  Python numbers are kept
    as they are (weak promotion)."""
    if type(value) is float and math.isfinite(value):  # the usual case, at once
        return value
    value = as_weak_scalar_or_array(value, name)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got a bool")
    if isinstance(value, np.ndarray) and value.dtype.kind == "b":
        raise TypeError(f"{name} must be numeric, got dtype bool")
    finite = np.isfinite(value)
    if not np.all(finite):
        raise ValueError(f"{name} must be finite, got {_shown(value, finite)}")
    return value


def rate(value: Any, name: str) -> np.ndarray:
    """An RL rate (``discount``, ``lam``): a real number or array in [0, 1], finite.

    Returned as a float ndarray (0-d for a number); broadcasting is the caller's."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number in [0, 1], got a bool")
    if isinstance(value, (int, float)):
        arr = np.asarray(float(value))
    else:
        arr = as_numeric(value, name)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    inside = (arr >= 0) & (arr <= 1)  # NaN fails both comparisons
    if not np.all(inside):
        raise ValueError(f"{name} must be finite and lie in [0, 1], got {_shown(arr, inside)}")
    return arr


def rate_for(value: Any, name: str, reduced: tuple[int, ...]) -> float | np.ndarray:
    """:func:`rate` of a tensor, array or number, as a float or an array broadcast to the
    non-time shape ``reduced`` (one rate per series)."""
    arr = rate(value, name)
    if arr.ndim == 0:
        return float(arr)
    try:
        return np.broadcast_to(arr, reduced)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not broadcast to the non-time shape {reduced}"
        ) from None


def recurrence_dtype(*operands: Any) -> np.dtype:
    """The dtype of ``h = a * h + b``: NumPy's promotion of the operands (Python numbers
    weak), booleans accumulated as int64."""
    result = np.result_type(*operands)
    if result.kind == "b":
        return np.dtype(np.int64)
    return result


def _shown(value: Any, ok: Any) -> str:
    """A value for an error message: a number as is, an array by its first entry that
    is not ``ok``."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    bad = arr[~np.asarray(ok)]
    return f"an array containing {bad.flat[0].item()!r}" if bad.size else "an array"


def common_shape(x: Any, y: Any, names: tuple[str, str]) -> tuple[int, ...]:
    """The broadcast shape of two operands (anything with ``.shape``), or a ValueError
    naming both."""
    try:
        return np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"{names[0]} with shape {x.shape} and {names[1]} with shape {y.shape} do not "
            "broadcast"
        ) from None


def broadcast(arr: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``np.broadcast_to`` with an error message that names the argument."""
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not broadcast to the input shape {shape}"
        ) from None


def state(value: Any, shape: tuple[int, ...], axis: int, name: str = "initial") -> np.ndarray:
    """A per-series state (shape of the input without ``axis``), returned with length 1
    along ``axis`` (broadcast along time by the dispatcher).

    Accepts the exact shape without ``axis``, anything that broadcasts to it, or the
    keep-dims shape (length 1 along ``axis``).
    """
    arr = as_numeric(value, name)
    reduced = shape[:axis] + shape[axis + 1 :]
    if arr.ndim == len(shape) and arr.ndim > 0 and arr.shape[axis] == 1:
        arr = np.squeeze(arr, axis)
    try:
        arr = np.broadcast_to(arr, reduced)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not match the input without axis "
            f"{axis}, shape {reduced}"
        ) from None
    return np.expand_dims(arr, axis)


def out_array(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Check a user ``out=``: an ndarray of the result shape that can hold ``dtype``."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if not np.can_cast(dtype, out.dtype, casting="same_kind"):
        raise TypeError(f"out has dtype {out.dtype}, which cannot hold the result dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out


def result_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """A user ``dtype=``: must be a numeric (non-bool) NumPy dtype."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be a NumPy numeric dtype, got {dtype!r}") from None
    if dt.kind not in "iufc":
        raise TypeError(f"{name} must be a numeric (int, float or complex) dtype, got {dt}")
    return dt
