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
    reset_value: Any = None,
) -> np.ndarray:
    """``h = step(h, a[t], b[t])``.  The first step is ``step(initial, ...)``; a reset
    step (the first one included) is ``step(reset_value, ...)``; a missing ``initial``
    or ``reset_value`` is the identity, i.e. the step is ``b[t]``."""
    b = np.asarray(b)
    shape = np.broadcast_shapes(np.shape(a), b.shape)
    b = np.moveaxis(np.broadcast_to(b, shape), axis, 0)
    a = np.moveaxis(np.broadcast_to(np.asarray(a), shape), axis, 0)
    flags = np.zeros(b.shape, dtype=bool)
    if reset is not None:
        flags = np.moveaxis(np.broadcast_to(np.asarray(reset, dtype=bool), shape), axis, 0)
    order = range(b.shape[0] - 1, -1, -1) if reverse else range(b.shape[0])

    def start(state: Any, t: int) -> Any:
        if state is None:
            return b[t]
        return step(np.broadcast_to(np.asarray(state), b.shape[1:]), a[t], b[t])

    out = np.empty(b.shape, dtype=dtype)
    h: Any = None
    for t in order:
        carried = start(initial, t) if h is None else step(h, a[t], b[t])
        h = np.where(flags[t], start(reset_value, t), carried)
        out[t] = h
    return np.moveaxis(out, 0, axis)


def _elementwise(step, x, dtype, axis, reverse, reset, initial, reset_value) -> np.ndarray:
    """A scan whose step combines the state with ``x[t]`` only, computed in ``dtype``."""
    return _scan(
        lambda h, _, xt: step(h, xt), 0, x.astype(dtype), axis, initial, reverse, reset, dtype,
        reset_value,
    )


def _states(*values: Any) -> tuple[Any, ...]:
    return tuple(v for v in values if v is not None)


def linear_recurrence(
    a, b, *, axis=0, initial=None, reverse=False, reset=None, reset_value=None, dtype=None
):
    """``h[t] = a[t] * h[t-1] + b[t]``; the first step ``a*initial + b``, a reset step
    ``a*reset_value + b``, or ``b`` where those are None."""
    dtype = dtype or np.result_type(a, b, *_states(initial, reset_value))
    return _scan(
        lambda h, at, bt: at * h + bt, a, b, axis, initial, reverse, reset, dtype, reset_value
    )


def discounted_cumsum(
    x, discount, *, axis=0, initial=None, reverse=False, reset=None, reset_value=None
):
    """``h[t] = discount * h[t-1] + x[t]``."""
    return linear_recurrence(
        discount, x, axis=axis, initial=initial, reverse=reverse, reset=reset,
        reset_value=reset_value,
    )


def cumsum(x, *, axis=0, reverse=False, reset=None, initial=None, reset_value=None, dtype=None):
    """``h[t] = h[t-1] + x[t]``; start from ``initial``, restart from ``reset_value``
    (each 0 when None)."""
    x = np.asarray(x)
    dtype = dtype or np.cumsum(np.zeros(1, x.dtype)).dtype
    return _elementwise(np.add, x, dtype, axis, reverse, reset, initial, reset_value)


def cumprod(x, *, axis=0, reverse=False, reset=None, initial=None, reset_value=None, dtype=None):
    """``h[t] = h[t-1] * x[t]``; start from ``initial``, restart from ``reset_value``
    (each 1 when None)."""
    x = np.asarray(x)
    dtype = dtype or np.cumprod(np.zeros(1, x.dtype)).dtype
    return _elementwise(np.multiply, x, dtype, axis, reverse, reset, initial, reset_value)


def logcumsumexp(x, *, axis=0, reverse=False, reset=None, initial=None, reset_value=None):
    """``h[t] = logaddexp(h[t-1], x[t])``; start from ``initial``, restart from
    ``reset_value`` (each -inf when None)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return _elementwise(np.logaddexp, x, dtype, axis, reverse, reset, initial, reset_value)


def ewm(
    x: Any,
    y: Any = None,
    *,
    stat: str,
    alpha: float,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    bias: bool = False,
    decay: Any = None,
    reset: Any = None,
) -> np.ndarray:
    """EW statistics of one 1-D series, one step at a time, as pandas'
    ``aggregations.pyx`` (``ewm`` for the mean, ``ewmcov`` for the rest) states them.

    ``stat`` is ``"mean"``, ``"var"``, ``"std"``, ``"cov"`` or ``"corr"``.  Extensions
    beyond pandas: ``decay[t]`` (per-step factor from ``times``, used for every stat, in
    which case ``adjust=False`` gives the new point the weight ``1 - old_wt``) and
    ``reset[t]`` (the series starts afresh at ``t``).  As in pandas (which replaces
    ``inf`` by NaN before its loops), non-finite values are missing.
    """
    x = np.asarray(x, dtype=np.float64)
    y = x if y is None else np.asarray(y, dtype=np.float64)
    n_t = x.shape[0]
    minp = max(min_periods, 1)
    old_factor = 1.0 - alpha
    out = np.full(n_t, np.nan)
    irregular = not adjust and decay is not None  # pandas GH-59142, gated on times (#66521)
    mean_x = mean_y = np.nan
    cov = var_x = var_y = 0.0
    sum_wt = sum_wt2 = old_wt = 1.0
    nobs = 0
    for t in range(n_t):
        if t == 0 or (reset is not None and reset[t]):
            mean_x = mean_y = np.nan
            cov = var_x = var_y = 0.0
            sum_wt = sum_wt2 = old_wt = 1.0
            nobs = 0
        cx, cy = x[t], y[t]
        obs = bool(np.isfinite(cx) and np.isfinite(cy))  # pandas: +-inf is missing too
        nobs += obs
        if not np.isnan(mean_x):
            if obs or not ignore_na:
                f = old_factor if decay is None else decay[t]
                sum_wt *= f
                sum_wt2 *= f * f
                old_wt *= f
            if obs:
                new_wt = 1.0 - old_wt if irregular else (1.0 if adjust else alpha)
                old_mx, old_my = mean_x, mean_y
                if mean_x != cx:
                    mean_x = (old_wt * mean_x + new_wt * cx) / (old_wt + new_wt)
                if mean_y != cy:
                    mean_y = (old_wt * mean_y + new_wt * cy) / (old_wt + new_wt)
                dx, dy = old_mx - mean_x, old_my - mean_y
                ex, ey = cx - mean_x, cy - mean_y
                tot = old_wt + new_wt
                cov = (old_wt * (cov + dx * dy) + new_wt * ex * ey) / tot
                var_x = (old_wt * (var_x + dx * dx) + new_wt * ex * ex) / tot
                var_y = (old_wt * (var_y + dy * dy) + new_wt * ey * ey) / tot
                sum_wt += new_wt
                sum_wt2 += new_wt * new_wt
                old_wt += new_wt
                if not adjust:
                    sum_wt /= old_wt
                    sum_wt2 /= old_wt * old_wt
                    old_wt = 1.0
        elif obs:
            mean_x, mean_y = cx, cy
        if nobs < minp:
            continue
        if stat == "mean":
            out[t] = mean_x
        elif stat == "corr":
            prod = var_x * var_y
            with np.errstate(divide="ignore", invalid="ignore"):
                out[t] = np.float64(cov) / np.sqrt(max(prod, 0.0))
        else:
            value = cov if stat == "cov" else var_x
            if not bias:
                num = sum_wt * sum_wt
                den = num - sum_wt2
                value = num / den * value if den > 0 else np.nan
            out[t] = np.sqrt(max(value, 0.0)) if stat == "std" and value == value else value
    return out
