"""Exponentially weighted moving statistics with pandas' exact semantics.

:func:`ewm_mean`, :func:`ewm_var`, :func:`ewm_std`, :func:`ewm_cov` and :func:`ewm_corr`
equal ``pandas.DataFrame.ewm(...).mean()`` (``.var()``, ...) for every ``alpha``/``com``/
``span``/``halflife``, ``adjust``, ``ignore_na``, ``min_periods`` and ``bias``, NaN
handling included, and add what pandas lacks: any axis of an N-d array, ``times`` for
every statistic, segment resets and streaming state.  Validation happens here; the scan
itself is in :mod:`scanwise.ewm.run` and :mod:`scanwise._kernels.ewm`.

Shared semantics
----------------
Decay
    Exactly one of ``alpha`` (0 < alpha <= 1), ``com`` (>= 0, alpha = 1/(1+com)),
    ``span`` (>= 1, alpha = 2/(span+1)) or ``halflife`` (> 0,
    alpha = 1 - exp(-ln 2 / halflife)).  The weight of ``x[t-k]`` in the mean at ``t`` is
    ``(1-alpha)**k``.
``adjust``
    True: ``mean[t] = sum_k w_k x[t-k] / sum_k w_k`` with ``w_k = (1-alpha)**k`` (the
    bias-corrected average of Adam/momentum).  False: the recursion
    ``mean[t] = (1-alpha) * mean[t-1] + alpha * x[t]``, ``mean[0] = x[0]``.
NaN (missing values)
    A NaN contributes nothing; the output at a NaN step repeats the last value.  With
    ``ignore_na=False`` (default) the weights of earlier points keep decaying across NaN
    steps (weights follow absolute positions); with ``ignore_na=True`` NaN steps are
    skipped as if absent.  For cov/corr a step counts only if ``x`` and ``y`` are both
    present (pairwise complete).  Leading NaNs give NaN.
``min_periods``
    The output is NaN until at least ``max(min_periods, 1)`` observations were seen
    (pandas' rule; counted per series and across ``state`` continuations).
``times``
    1-D, one value per step, non-decreasing; datetime64 (or a pandas DatetimeIndex /
    datetime column) with ``halflife`` a timedelta (``numpy.timedelta64``,
    ``datetime.timedelta``, ``pandas.Timedelta`` or a string like ``"15min"``), or numbers
    with a numeric ``halflife`` in the same units.  Step ``t`` decays the old weights by
    ``0.5 ** ((times[t] - times[t-1]) / halflife)``, as pandas' mean does, and here for
    var/std/cov/corr too.  With ``adjust=False`` the new point gets weight
    ``1 - decay``: ``mean[t] = d * mean[t-1] + (1 - d) * x[t]`` (polars'
    ``ewm_mean_by``).  Only ``halflife`` may be combined with ``times``.
``reset``
    Boolean, broadcastable to ``x``.  Where true, the statistic restarts at that step as
    if the series began there (``df.groupby(segment).ewm(...)`` on data sorted by
    segment).
``state`` / ``return_state``
    ``return_state=True`` returns ``(result, state)``; passing that :class:`EWMState` as
    ``state=`` to the next call over the following steps gives exactly the one-call
    result (up to floating-point rounding: none, since the update order is the same).
    A reset inside a later call works, because the state is carried separately from
    the restart value.
dtype
    float32 input gives float32 output, accumulated in float64; integers and bools
    give float64; complex raises ``TypeError``.
Variance
    Welford-style updates of pandas (no ``E[x^2] - E[x]^2``): a constant series gives
    exactly 0, never a negative variance.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate as v
from ..backends import entry
from . import params as _ewm_params
from . import run as _ewm_run
from .state import EWMState, check, fresh, spelled

__all__ = ["EWMState", "ewm_corr", "ewm_cov", "ewm_mean", "ewm_std", "ewm_var"]


def _real_input(x: Any, name: str) -> np.ndarray:
    arr = v.as_numeric(x, name)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


def _min_periods(value: Any) -> int:
    if type(value) is int and value >= 0:  # the usual case, without the ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"min_periods must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"min_periods must be >= 0, got {value}")
    return int(value)


@functools.lru_cache(maxsize=64)
def _constant(value: float, n: int) -> np.ndarray:
    """``value`` repeated ``n`` times as a read-only stride-0 view (shared: nothing
    writes it; cached, as building it cost a small call 4 us)."""
    return np.broadcast_to(np.float64(value), (n,))


def _ewm(kind: str, x: Any, y: Any, kw: dict[str, Any]) -> Any:
    """Validate everything, then run; ``kind`` is mean, var, std, cov or corr."""
    xa = _real_input(x, "x")
    ya = None
    if kind in ("cov", "corr"):
        ya = _real_input(y, "y")
        shape = v.common_shape(xa, ya, ("x", "y"))
        xa, ya = np.broadcast_to(xa, shape), np.broadcast_to(ya, shape)
    ax = v.scan_axis(kw["axis"], xa.ndim, "x")
    shape = xa.shape
    n_t = shape[ax]
    adjust = v.flag(kw["adjust"], "adjust")
    ignore_na = v.flag(kw["ignore_na"], "ignore_na")
    return_state = v.flag(kw["return_state"], "return_state")
    minp = _min_periods(kw["min_periods"])
    times = kw["times"]
    values, unit = (
        (None, None) if times is None
        else _ewm_params.as_times(times, n_t, check_nat=False)  # step_factors finds NaT
    )
    dec = _ewm_params.decay(kw["alpha"], kw["com"], kw["span"], kw["halflife"], unit)
    rst = None if kw["reset"] is None else v.step_flags(kw["reset"], shape, ax, "reset")

    state_kind = {"var": "cov", "std": "cov"}.get(kind, kind)
    reduced = shape[:ax] + shape[ax + 1 :]
    config = (dec.com, dec.halflife, unit, adjust, ignore_na)
    given = spelled({n: kw[n] for n in ("alpha", "com", "span", "halflife")}, unit, adjust,
                    ignore_na)
    if kw["state"] is None:
        data, last = fresh(state_kind, reduced), None
    else:
        st = check(kw["state"], state_kind, reduced, config, given)
        data, last = st.data, st.last_time
    if values is None:
        # an array even when constant (one compiled signature instead of two), as a
        # stride-0 view: the scalar kernels read one cached value instead of an array as
        # long as the series; ``_ewm_run`` materialises it for the vectorised lane loops
        factor = _constant(1.0 - dec.alpha, n_t)
        new_last = None
    else:
        assert dec.halflife is not None
        # (nothing to decay in an empty scan: no kernel, which the Dask graph relies on)
        factor = (_ewm_params.step_factors(values, dec.halflife, last) if n_t
                  else np.empty(0))
        new_last = _ewm_params.last_value(values) if n_t else last

    both32 = xa.dtype.char in "ef" and (ya is None or ya.dtype.char in "ef")  # float16/32
    result = np.dtype(np.float32 if both32 else np.float64)
    out = kw["out"]
    if out is not None:
        out = v.out_array(out, shape, result)
    # ``times=`` with adjust=False: the new point weighs ``1 - old_wt`` (pandas GH-59142).
    # pandas 3.0 also took that branch for ``com == 1`` without ``times`` (a jump in
    # alpha across NaN gaps); 3.1 gated it on ``times`` (pandas #66521), as 2.x had it
    irregular = not adjust and values is not None
    options: dict[str, Any] = {
        "alpha": dec.alpha,
        "adjust": adjust,
        "ignore_na": ignore_na,
        "irregular": irregular,
        "minp": max(minp, 1),
    }
    if state_kind == "cov":
        options["bias"] = v.flag(kw.get("bias", False), "bias")
        options["root"] = kind == "std"
    res, new_data = _ewm_run.run(
        state_kind,
        xa,
        ya if kind != "var" and kind != "std" else None,
        axis=ax,
        factor=factor,
        reset=rst,
        state=data,
        out=out,
        result=result,
        options=options,
        count=return_state,
    )
    if return_state:
        return res, EWMState(state_kind, new_data, new_last, config, given)
    return res


@entry("ewm_mean")
def ewm_mean(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    alpha: float | None = None,
    com: float | None = None,
    span: float | None = None,
    halflife: Any = None,
    times: ArrayLike | None = None,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    reset: ArrayLike | None = None,
    state: EWMState | None = None,
    return_state: bool = False,
    out: np.ndarray | None = None,
) -> Any:
    """Exponentially weighted mean along ``axis`` (pandas ``.ewm(...).mean()``).

    Semantics (decay, adjust, NaN, min_periods, times, reset, state) are listed in
    :mod:`scanwise.ewm`.  Returns an array of ``x``'s shape, or ``(result, EWMState)``
    with ``return_state=True``.  pandas/polars Series and DataFrames are accepted and
    returned as the same type (time along the rows).

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.ewm_mean([1.0, 2.0, np.nan, 4.0], alpha=0.5)
        array([1.        , 1.66666667, 1.66666667, 3.36363636])
        >>> scanwise.ewm_mean([1.0, 2.0, np.nan, 4.0], alpha=0.5, adjust=False, ignore_na=True)
        array([1.  , 1.5 , 1.5 , 2.75])
        >>> first, st = scanwise.ewm_mean([1.0, 2.0], alpha=0.5, return_state=True)
        >>> scanwise.ewm_mean([np.nan, 4.0], alpha=0.5, state=st)
        array([1.66666667, 3.36363636])
    """
    return _ewm("mean", x, None, locals())


@entry("ewm_var")
def ewm_var(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    alpha: float | None = None,
    com: float | None = None,
    span: float | None = None,
    halflife: Any = None,
    times: ArrayLike | None = None,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    bias: bool = False,
    reset: ArrayLike | None = None,
    state: EWMState | None = None,
    return_state: bool = False,
    out: np.ndarray | None = None,
) -> Any:
    """Exponentially weighted variance (pandas ``.ewm(...).var(bias=...)``).

    ``bias=False`` (default) applies pandas' correction ``sum_w**2 / (sum_w**2 -
    sum(w**2))`` (NaN while only one observation carries weight); ``bias=True`` gives
    the weighted population variance.  Other keywords as :func:`ewm_mean`.

    Example:
        >>> import scanwise
        >>> scanwise.ewm_var([1.0, 2.0, 3.0, 5.0], alpha=0.5)
        array([       nan, 0.5       , 0.92857143, 3.04285714])
        >>> scanwise.ewm_var([3.0, 3.0, 3.0], alpha=0.1, bias=True)
        array([0., 0., 0.])
    """
    return _ewm("var", x, None, locals())


@entry("ewm_std")
def ewm_std(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    alpha: float | None = None,
    com: float | None = None,
    span: float | None = None,
    halflife: Any = None,
    times: ArrayLike | None = None,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    bias: bool = False,
    reset: ArrayLike | None = None,
    state: EWMState | None = None,
    return_state: bool = False,
    out: np.ndarray | None = None,
) -> Any:
    """Exponentially weighted standard deviation, ``sqrt(ewm_var(...))`` (pandas ``.std()``).

    Example:
        >>> import scanwise
        >>> scanwise.ewm_std([1.0, 2.0, 3.0, 5.0], alpha=0.5).round(6)
        array([     nan, 0.707107, 0.963624, 1.744379])
    """
    return _ewm("std", x, None, locals())


@entry("ewm_cov")
def ewm_cov(
    x: ArrayLike,
    y: ArrayLike,
    /,
    *,
    axis: int | None = None,
    alpha: float | None = None,
    com: float | None = None,
    span: float | None = None,
    halflife: Any = None,
    times: ArrayLike | None = None,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    bias: bool = False,
    reset: ArrayLike | None = None,
    state: EWMState | None = None,
    return_state: bool = False,
    out: np.ndarray | None = None,
) -> Any:
    """Exponentially weighted covariance of ``x`` and ``y`` (pandas ``.ewm(...).cov(y)``).

    Computed on pairwise-complete steps (a step counts when both are present); ``x`` and
    ``y`` broadcast together.  ``bias`` as :func:`ewm_var`.

    Example:
        >>> import scanwise
        >>> scanwise.ewm_cov([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], alpha=0.5)
        array([       nan, 1.        , 0.14285714])
    """
    return _ewm("cov", x, y, locals())


@entry("ewm_corr")
def ewm_corr(
    x: ArrayLike,
    y: ArrayLike,
    /,
    *,
    axis: int | None = None,
    alpha: float | None = None,
    com: float | None = None,
    span: float | None = None,
    halflife: Any = None,
    times: ArrayLike | None = None,
    adjust: bool = True,
    ignore_na: bool = False,
    min_periods: int = 0,
    reset: ArrayLike | None = None,
    state: EWMState | None = None,
    return_state: bool = False,
    out: np.ndarray | None = None,
) -> Any:
    """Exponentially weighted correlation (pandas ``.ewm(...).corr(y)``).

    ``cov(x, y) / sqrt(var(x) * var(y))`` with the biased moments, all on the
    pairwise-complete steps; NaN where a variance is 0 (e.g. the first observation).

    Example:
        >>> import scanwise
        >>> scanwise.ewm_corr([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], alpha=0.5).round(6)
        array([     nan, 1.      , 0.175412])
    """
    return _ewm("corr", x, y, locals())

