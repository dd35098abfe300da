"""Argument rules shared by the RL estimators' NumPy and Dask paths (:mod:`scanwise.rl`,
:mod:`scanwise.backends.dask_rl`): per-step or per-env rates, ``valid``, clips and ``n``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _validate as v


def rate(value: Any, name: str, shape: tuple[int, ...], axis: int) -> float | np.ndarray:
    """An RL rate (``discount``, ``lam``) in [0, 1]: a float, or an array with the input's
    number of dimensions that broadcasts to ``shape`` (compact: length 1 or the input's
    along each axis).

    An array with the input's number of dimensions is per step (the time axis
    included, rlax's ``discount_t``; length 1 along time for one rate per series); one
    with fewer dimensions is per series and broadcasts to the non-time shape, as
    before per-step rates existed (``discount=[0.9, 0.99]`` for two envs).
    """
    arr = v.rate(value, name)
    if arr.ndim == 0:
        return float(arr)
    reduced = shape[:axis] + shape[axis + 1 :]
    if arr.ndim == len(shape):
        try:
            full = np.broadcast_shapes(arr.shape, shape)
        except ValueError:
            full = None
        if full != tuple(shape):
            raise ValueError(
                f"{name} with shape {arr.shape} does not broadcast to the input shape "
                f"{tuple(shape)} (a rate with the input's {len(shape)} dimensions is per step)"
            )
        return arr
    try:
        per_env = np.broadcast_to(arr, reduced)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not broadcast to the non-time shape "
            f"{reduced} (one rate per series); a per-step {name} needs the input's "
            f"{len(shape)} dimensions (e.g. {name}[:, None] for one rate per step shared "
            "by every series)"
        ) from None
    return np.expand_dims(per_env, axis)


def valid(value: Any, shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """``valid`` as a boolean view of ``shape`` (a step flag: it spans the time axis), or
    None when every step is valid (the estimators' plain path)."""
    if value is None:
        return None
    arr = v.step_flags(value, shape, axis, "valid")
    return None if arr.all() else arr


def clip(value: Any, name: str) -> float:
    """A V-trace clip: None (no clip, returned as inf) or a real number >= 0."""
    if value is None:
        return float("inf")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0 or None, got {value!r}")
    x = float(value)
    if not x >= 0:  # NaN fails too
        raise ValueError(f"{name} must be >= 0 (or None for no clip), got {value!r}")
    return x


def steps(value: Any) -> int:
    """``n`` of the n-step returns: an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"n must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"n must be >= 1, got {value!r}")
    return int(value)
