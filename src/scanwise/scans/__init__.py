"""Public scans over NumPy array-likes.

Every function validates its arguments here and hands the work to
:mod:`scanwise._dispatch`; nothing is computed in this module.  Tensors, frames and Dask
arrays are taken at the entry (:func:`scanwise.backends.entry`): below it every argument
is a NumPy array or a number.

Shared semantics
----------------
``axis``
    As :func:`numpy.cumulative_sum`: optional only for 1-D input; negative axes work;
    an out-of-range axis raises :class:`numpy.exceptions.AxisError`.
``reverse``
    Scan from the last step to the first, e.g. ``h[t] = a[t] * h[t+1] + b[t]``.
``reset``
    Boolean (or 0/1) array with the input's shape along ``axis`` (it may broadcast
    across the other axes, not along time).  Where ``reset[t]`` is true, step ``t``
    does not receive the carried state: the state is replaced by ``reset_value`` (the
    op's identity when ``reset_value`` is None) before step ``t`` is applied.  With
    ``reverse=True`` a reset therefore marks the *last* step of a segment in time order,
    which is exactly an RL ``done`` flag.
``initial``
    The carried state before the first step only (``initial_state`` of PyTorch scan
    libraries): the shape of the input without ``axis``, or anything that broadcasts to
    it.  A reset on the first step wins over it.  Passing the last slice of one call as
    ``initial`` of the next continues the scan exactly, resets included (streaming).
``reset_value``
    The state a reset restarts from (same shapes as ``initial``); default the op's
    identity (0 for sums and recurrences, 1 for products, ``-inf`` in log space).  It
    promotes the result dtype as ``initial`` does.
``out``
    As NumPy: an array of the result's shape whose dtype can hold the result
    (``same_kind``).  It may be the input itself (in place).  Without ``out`` no input is
    ever modified.

Exactness: on the sequential paths every step is one ``a * h + b`` (or ``h + x``) in the
output dtype, so forward float64 :func:`cumsum` is bit-identical to :func:`numpy.cumsum`.
A few very long series (at most 4 series of at least 131072 steps) take the
chunk-parallel path, which groups steps and rounds differently (a few ulps); results
never depend on the number of threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _dispatch
from .. import _validate as v
from ..backends import entry


def _prepare(
    x: Any, axis: Any, reset: Any, initial: Any, reverse: Any, reset_value: Any,
    name: str = "x",
) -> tuple[np.ndarray, int, np.ndarray | None, np.ndarray | None, np.ndarray | None, bool]:
    arr = v.as_numeric(x, name)
    ax = v.scan_axis(axis, arr.ndim, name)
    rev = v.flag(reverse, "reverse")
    rst = None if reset is None else v.step_flags(reset, arr.shape, ax, "reset")
    init = None if initial is None else v.state(initial, arr.shape, ax)
    rval = None if reset_value is None else v.state(reset_value, arr.shape, ax, "reset_value")
    return arr, ax, rst, init, rval, rev


def _result_shape(shape: tuple[int, ...], axis: int, include_initial: bool) -> tuple[int, ...]:
    if not include_initial:
        return shape
    return shape[:axis] + (shape[axis] + 1,) + shape[axis + 1 :]


def _accumulate(
    op: np.ufunc,
    x: ArrayLike,
    axis: int | None,
    dtype: DTypeLike,
    include_initial: bool,
    reverse: bool,
    reset: ArrayLike | None,
    initial: ArrayLike | None,
    reset_value: ArrayLike | None,
    out: np.ndarray | None,
) -> np.ndarray:
    arr, ax, rst, init, rval, rev = _prepare(x, axis, reset, initial, reverse, reset_value)
    inc = v.flag(include_initial, "include_initial")
    result = v.accumulate_dtype(
        op, arr.dtype, dtype, v.promoters((initial, init), (reset_value, rval))
    )
    if out is not None:
        out = v.out_array(out, _result_shape(arr.shape, ax, inc), result)
    identity = op.identity
    if op is np.add:
        a, b = 1, arr
    else:
        # h = x * h + (-0.0) is exactly x * h for every float h (also for -0.0 and NaN);
        # a reset multiplies x by the identity 1
        a = arr
        b = np.broadcast_to(np.array(-0.0 if result.kind in "fc" else 0, dtype=result), arr.shape)
        ones = np.ones(arr.shape[:ax] + (1,) + arr.shape[ax + 1 :], dtype=result)
        init = ones if init is None else init
        rval = ones if rval is None and rst is not None else rval
    return _dispatch.run(
        "linear",
        b=b,
        a=a,
        init=init,
        rval=rval,
        reset=rst,
        axis=ax,
        reverse=rev,
        out=out,
        result=result,
        include_initial=inc,
        identity=identity,
    )


@entry("cumsum")
def cumsum(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    dtype: DTypeLike = None,
    include_initial: bool = False,
    reverse: bool = False,
    reset: ArrayLike | None = None,
    initial: ArrayLike | None = None,
    reset_value: ArrayLike | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Cumulative sum ``h[t] = h[t-1] + x[t]`` along ``axis``.

    Parameters:
        x: numeric array-like.
        axis: scan axis; may be omitted only for 1-D input.
        dtype: result dtype; default as :func:`numpy.cumsum` (bools and small integers
            accumulate in the platform integer, floats keep their precision).
        include_initial: prepend the identity 0 (or ``initial``) as
            :func:`numpy.cumulative_sum` does; with ``reverse=True`` it goes at the end.
        reverse: sum from the end: ``h[t] = x[t] + h[t+1]``.
        reset: where true, the sum restarts at step t (from ``reset_value``, else 0).
        initial: the state before the first step, per series (shape of ``x`` without
            ``axis``); a reset does not restart from it.
        reset_value: the state a reset restarts from (default 0).
        out: output array; may be ``x`` itself.

    Returns:
        The cumulative sums, same shape as ``x`` (one longer along ``axis`` with
        ``include_initial``).  NaN propagates as in NumPy.

    Example:
        >>> import scanwise
        >>> scanwise.cumsum([1, 2, 3, 4])
        array([ 1,  3,  6, 10])
        >>> scanwise.cumsum([1.0, 2.0, 3.0, 4.0], reset=[0, 0, 1, 0])
        array([1., 3., 3., 7.])
        >>> scanwise.cumsum([1, 2, 3], reverse=True, include_initial=True)
        array([6, 5, 3, 0])

        Streaming: the last value of one call is ``initial`` of the next, and a reset in
        the second call restarts from 0, as in one call over both:

        >>> x, r = [1.0] * 6, [0, 0, 0, 0, 1, 0]
        >>> a = scanwise.cumsum(x[:3], reset=r[:3])
        >>> scanwise.cumsum(x[3:], reset=r[3:], initial=a[-1])
        array([4., 1., 2.])
        >>> scanwise.cumsum(x, reset=r)
        array([1., 2., 3., 4., 1., 2.])
    """
    return _accumulate(
        np.add, x, axis, dtype, include_initial, reverse, reset, initial, reset_value, out
    )


@entry("cumprod")
def cumprod(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    dtype: DTypeLike = None,
    include_initial: bool = False,
    reverse: bool = False,
    reset: ArrayLike | None = None,
    initial: ArrayLike | None = None,
    reset_value: ArrayLike | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Cumulative product ``h[t] = x[t] * h[t-1]`` along ``axis``.

    Same keywords and rules as :func:`cumsum`, with identity 1: a reset restarts the
    product at ``x[t]`` (or ``reset_value * x[t]``); the first step is
    ``initial * x[0]``; ``include_initial`` inserts 1 (or ``initial``).

    Example:
        >>> import scanwise
        >>> scanwise.cumprod([1, 2, 3, 4])
        array([ 1,  2,  6, 24])
        >>> scanwise.cumprod([2.0, 2.0, 2.0], reverse=True)
        array([8., 4., 2.])
    """
    return _accumulate(
        np.multiply, x, axis, dtype, include_initial, reverse, reset, initial, reset_value, out
    )


@entry("logcumsumexp")
def logcumsumexp(
    x: ArrayLike,
    /,
    *,
    axis: int | None = None,
    reverse: bool = False,
    reset: ArrayLike | None = None,
    initial: ArrayLike | None = None,
    reset_value: ArrayLike | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``h[t] = log(exp(h[t-1]) + exp(x[t]))`` along ``axis``, without overflow.

    Equals ``numpy.logaddexp.accumulate`` (the same ``logaddexp`` per step), and is exact
    at ``-inf`` (the identity: ``-inf`` entries contribute nothing), ``+inf`` and very
    large values.  NaN propagates.  Real input only: integers and bools are computed in
    float64, float32 stays float32, complex input raises ``TypeError``.  The first step
    is ``logaddexp(initial, x[0])``; a reset restarts at ``x[t]`` (or
    ``logaddexp(reset_value, x[t])``).

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.logcumsumexp(np.log([1.0, 2.0, 3.0])).round(6)
        array([0.      , 1.098612, 1.791759])
        >>> scanwise.logcumsumexp([1000.0, 1000.0])
        array([1000.        , 1000.69314718])
    """
    arr, ax, rst, init, rval, rev = _prepare(x, axis, reset, initial, reverse, reset_value)
    for name, value in (("x", arr), ("initial", init), ("reset_value", rval)):
        if value is not None and value.dtype.kind == "c":
            raise TypeError(f"logcumsumexp needs real input; {name} is complex")
    result = np.result_type(
        arr.dtype if arr.dtype.kind == "f" else np.float64,
        *v.promoters((initial, init), (reset_value, rval)),
    )
    if out is not None:
        out = v.out_array(out, arr.shape, result)
    return _dispatch.run(
        "logaddexp",
        b=arr,
        init=init,
        rval=rval,
        reset=rst,
        axis=ax,
        reverse=rev,
        out=out,
        result=result,
    )


@entry("linear_recurrence", template=1)
def linear_recurrence(
    a: ArrayLike,
    b: ArrayLike,
    /,
    *,
    axis: int | None = None,
    initial: ArrayLike | None = None,
    reverse: bool = False,
    reset: ArrayLike | None = None,
    reset_value: ArrayLike | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """First-order linear recurrence ``h[t] = a[t] * h[t-1] + b[t]`` along ``axis``.

    ``h[-1] = initial`` (default 0); a reset at step ``t`` restarts from ``reset_value``
    (default 0): ``h[t] = a[t] * reset_value + b[t]``.  ``a`` broadcasts against ``b``
    (a scalar, a per-channel or a per-step ``a`` all work) and the result has their
    broadcast shape.  With ``initial=None`` the first step (with ``reset_value=None``
    every reset step) is ``h[t] = b[t]`` exactly, i.e. ``a[t]`` is not applied to the
    zero state.  ``reverse=True`` runs from
    the last step: ``h[t] = a[t] * h[t+1] + b[t]``.  ``a`` is data, like ``b``: any value
    is allowed and NaN propagates (:func:`discounted_cumsum`'s ``discount`` is a parameter
    and must be finite).  The dtype is the NumPy promotion of
    ``a``, ``b``, ``initial`` and ``reset_value`` (Python numbers are weak: a float discount keeps a
    float32 ``b`` in float32).

    Example:
        >>> import scanwise
        >>> scanwise.linear_recurrence(0.5, [1.0, 1.0, 1.0])
        array([1.  , 1.5 , 1.75])
        >>> scanwise.linear_recurrence([1, 2, 3], [1, 1, 1], initial=10)
        array([11, 23, 70])
    """
    a_in = v.as_weak_scalar_or_array(a, "a")
    b_arr = v.as_numeric(b, "b")
    if isinstance(a_in, np.ndarray) and a_in.ndim:
        shape = v.common_shape(a_in, b_arr, ("a", "b"))
        b_arr = np.broadcast_to(b_arr, shape)
        a_in = np.broadcast_to(a_in, shape)
    return _recurrence(a_in, b_arr, axis, initial, reverse, reset, reset_value, out, "b")


@entry("discounted_cumsum")
def discounted_cumsum(
    x: ArrayLike,
    discount: ArrayLike,
    /,
    *,
    axis: int | None = None,
    initial: ArrayLike | None = None,
    reverse: bool = False,
    reset: ArrayLike | None = None,
    reset_value: ArrayLike | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Discounted cumulative sum ``h[t] = discount * h[t-1] + x[t]``.

    Exactly ``linear_recurrence(discount, x, ...)``; ``discount`` is a finite number or
    array broadcastable to ``x`` (NaN and infinities raise ``ValueError``; values outside
    [0, 1] are allowed: a filter pole may be negative or above 1, an RL discount is
    checked by the RL estimators).  RL returns are the reverse scan, with episode ends
    as ``reset``: ``G[t] = r[t] + gamma * G[t+1]``.

    Example:
        >>> import scanwise
        >>> scanwise.discounted_cumsum([1.0, 1.0, 1.0], 0.9, reverse=True)
        array([2.71, 1.9 , 1.  ])
        >>> scanwise.discounted_cumsum([1.0, 1.0, 1.0, 1.0], 0.5, reverse=True,
        ...                            reset=[False, True, False, False])
        array([1.5, 1. , 1.5, 1. ])
    """
    x_arr = v.as_numeric(x, "x")
    d = v.factor(discount, "discount")
    if isinstance(d, np.ndarray) and d.ndim:
        d = v.broadcast(d, x_arr.shape, "discount")
    return _recurrence(d, x_arr, axis, initial, reverse, reset, reset_value, out, "x")


def _recurrence(
    a: Any,
    b: np.ndarray,
    axis: Any,
    initial: Any,
    reverse: Any,
    reset: Any,
    reset_value: Any,
    out: Any,
    name: str,
) -> np.ndarray:
    b, ax, rst, init, rval, rev = _prepare(b, axis, reset, initial, reverse, reset_value, name)
    result = v.recurrence_dtype(a, b, *v.promoters((initial, init), (reset_value, rval)))
    if out is not None:
        out = v.out_array(out, b.shape, result)
    return _dispatch.run(
        "linear", b=b, a=a, init=init, rval=rval, reset=rst, axis=ax, reverse=rev, out=out,
        result=result,
    )
