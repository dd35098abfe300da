"""Slow, obviously correct references for every scan (used by the tests; they also
document the semantics).  A plain loop over time, vectorised over the other axes only.

Each reference takes the same arguments as the public function (``axis`` required).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _scan(
    step: Callable[[Any, Any, Any], Any],
    a: Any,
    b: Any,
    axis: int,
    initial: Any,
    reverse: bool,
    reset: Any,
    dtype: Any,
) -> np.ndarray:
    """``h = step(h, a[t], b[t])``; a restarted step is ``step(initial, ...)``, or ``b[t]``
    when there is no ``initial`` (the identity combined with ``b[t]``)."""
    b = np.asarray(b)
    shape = np.broadcast_shapes(np.shape(a), b.shape)
    b = np.moveaxis(np.broadcast_to(b, shape), axis, 0)
    a = np.moveaxis(np.broadcast_to(np.asarray(a), shape), axis, 0)
    flags = np.zeros(b.shape, dtype=bool)
    if reset is not None:
        flags = np.moveaxis(np.broadcast_to(np.asarray(reset, dtype=bool), shape), axis, 0)
    order = range(b.shape[0] - 1, -1, -1) if reverse else range(b.shape[0])
    out = np.empty(b.shape, dtype=dtype)
    h: Any = None
    for t in order:
        fresh = b[t]  # state replaced by `initial` (or the identity)
        if initial is not None:
            fresh = step(np.broadcast_to(np.asarray(initial), b.shape[1:]), a[t], b[t])
        h = fresh if h is None else np.where(flags[t], fresh, step(h, a[t], b[t]))
        out[t] = h
    return np.moveaxis(out, 0, axis)


def _elementwise(step, x, dtype, axis, reverse, reset, initial) -> np.ndarray:
    """A scan whose step combines the state with ``x[t]`` only, computed in ``dtype``."""
    return _scan(
        lambda h, _, xt: step(h, xt), 0, x.astype(dtype), axis, initial, reverse, reset, dtype
    )


def linear_recurrence(a, b, *, axis=0, initial=None, reverse=False, reset=None, dtype=None):
    """``h[t] = a[t] * h[t-1] + b[t]``; restart: ``a*initial + b``, or ``b`` without initial."""
    dtype = dtype or np.result_type(a, b, *(() if initial is None else (initial,)))
    return _scan(lambda h, at, bt: at * h + bt, a, b, axis, initial, reverse, reset, dtype)


def discounted_cumsum(x, discount, *, axis=0, initial=None, reverse=False, reset=None):
    """``h[t] = discount * h[t-1] + x[t]``."""
    return linear_recurrence(discount, x, axis=axis, initial=initial, reverse=reverse, reset=reset)


def cumsum(x, *, axis=0, reverse=False, reset=None, initial=None, dtype=None):
    """``h[t] = h[t-1] + x[t]``; restart from ``initial`` (or 0)."""
    x = np.asarray(x)
    dtype = dtype or np.cumsum(np.zeros(1, x.dtype)).dtype
    return _elementwise(np.add, x, dtype, axis, reverse, reset, initial)


def cumprod(x, *, axis=0, reverse=False, reset=None, initial=None, dtype=None):
    """``h[t] = h[t-1] * x[t]``; restart from ``initial`` (or 1)."""
    x = np.asarray(x)
    dtype = dtype or np.cumprod(np.zeros(1, x.dtype)).dtype
    return _elementwise(np.multiply, x, dtype, axis, reverse, reset, initial)


def logcumsumexp(x, *, axis=0, reverse=False, reset=None, initial=None):
    """``h[t] = logaddexp(h[t-1], x[t])``; restart from ``initial`` (or -inf)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return _elementwise(np.logaddexp, x, dtype, axis, reverse, reset, initial)
