"""Compute layer of the RL estimators (:mod:`scanwise.rl`).  ``gae``, ``vtrace``,
``off_policy_returns`` and ``n_step_returns`` are fused passes
(:mod:`scanwise._kernels.rl.returns`, :mod:`scanwise._kernels.rl.nstep`) that read every input
once and write only their outputs; the discounted returns are one reverse
linear-recurrence scan through :mod:`scanwise._dispatch`.  Arguments arrive checked:
rates are numbers or arrays with the input's number of dimensions (length 1 or the
input's along each axis), flags are boolean views of the input shape, ``valid`` is None
when every step is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _dispatch, _layout

GAE_MIN_LANES = 64
GAE_ROWS_MAX_LANES = 16


def _full(rate: float | np.ndarray, cdt: np.dtype, shape: tuple[int, ...]) -> Any:
    """A number as the compute dtype's scalar; an array cast (while still compact) and
    broadcast to ``shape`` without copying."""
    if isinstance(rate, np.ndarray):
        return np.broadcast_to(rate.astype(cdt, copy=False), shape)
    return cdt.type(rate)


def _finish(outs: list[np.ndarray], result: np.dtype) -> list[np.ndarray]:
    return [o if o.dtype == result else o.astype(result) for o in outs]


def _run(
    k: int,
    result: np.dtype,
    floats: list[np.ndarray],
    flags: list[np.ndarray | None],
    rates: list[float | np.ndarray],
    axis: int,
    call: Callable[[list[Any], list[Any], list[Any]], None],
) -> list[np.ndarray]:
    """``k`` new outputs like ``floats[0]`` (the rewards), computed by :func:`_fused`
    in the kernels' dtype and returned in ``result``."""
    cdt = _dispatch.compute_dtype(result)
    outs = [np.empty_like(floats[0], dtype=cdt) for _ in range(k)]
    if floats[0].size:
        _fused(outs, floats, flags, rates, axis, call)
    return _finish(outs, result)


def _block(out3: np.ndarray, min_lanes: int = GAE_MIN_LANES) -> int:
    return _layout.lane_block(out3, _dispatch.threads(), min_lanes)


def _fused(
    outs: list[np.ndarray],
    floats: list[np.ndarray],
    flags: list[np.ndarray | None],
    rates: list[float | np.ndarray],
    axis: int,
    call: Callable[[list[Any], list[Any], list[Any]], None],
) -> None:
    """Cast the float operands to the outputs' dtype, lay everything out as canonical
    views and ``call(outs3, operands3, rates3)`` once per set of views (a rate that is a
    number stays one)."""
    cdt = outs[0].dtype
    shape = outs[0].shape
    floats = [x.astype(cdt, copy=False) for x in floats]
    full = [_full(x, cdt, shape) for x in rates]
    arrays = [*outs, *floats, *flags, *(x if isinstance(x, np.ndarray) else None for x in full)]
    k, m = len(outs), len(outs) + len(floats) + len(flags)
    for views in _layout.canonical(shape, axis, arrays, writeable=k):
        rates3 = [x if view is None else view for view, x in zip(views[m:], full, strict=True)]
        call(views[:k], views[k:m], rates3)


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    lam: float | np.ndarray,
    axis: int,
    result: np.dtype,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``delta = r + discount*(1-terminated)*next_values - values``;
    ``A[t] = delta[t] + discount*lam*(1-done[t])*A[t+1]``; returns ``(A, A + values)``,
    written into ``out`` (checked arrays of the shape) when given."""
    from .._dispatch import _unalias, compute_dtype

    cdt = compute_dtype(result)
    targets = [
        o if out is not None and o.dtype == cdt else np.empty_like(rewards, dtype=cdt)
        for o in (out or (None, None))
    ]
    inputs = [rewards, values, next_values, terminated, done, valid]
    for target in targets:  # an input read at the very position written is safe
        inputs = [_unalias(x, target, axis, elementwise=True) for x in inputs]
    if targets[0].size:
        _gae_kernel(targets, inputs[:3], *inputs[3:], discount, lam, axis)
    if out is not None:
        for o, target in zip(out, targets, strict=True):
            if o is not target:
                np.copyto(o, target, casting="same_kind")
        return out
    adv, ret = _finish(targets, result)
    return adv, ret


def _gae_kernel(
    outs: list[np.ndarray],
    floats: list[np.ndarray],
    terminated: np.ndarray,
    done: np.ndarray,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    lam: float | np.ndarray,
    axis: int,
) -> None:
    """Run the fused GAE kernel (:mod:`scanwise._kernels.rl.returns`) on canonical views."""
    from .._kernels.rl.returns import gae_rows, gae_time_major

    def call(outs3: list[Any], ins3: list[Any], rates3: list[Any]) -> None:
        adv3, ret3 = outs3
        # at most GAE_ROWS_MAX_LANES envs: one series a task keeps every thread busy, where
        # the lane kernel would run one narrow task (docs/design.md)
        if _layout.time_major(adv3) and adv3.shape[2] > GAE_ROWS_MAX_LANES:
            # both outputs are written as unit-stride rows (``out=`` arrays may differ)
            stream = _layout.streaming(adv3) and _layout.streaming(ret3)
            gae_time_major(*ins3, *rates3, adv3, ret3, _block(adv3), stream)
        else:
            gae_rows(*ins3, *rates3, adv3, ret3)

    # discount * lam multiplied while compact (per env: a row; per step: the user's size)
    rates = [discount, np.multiply(discount, lam)]
    _fused(outs, floats, [terminated, done, valid], rates, axis, call)


def discounted_returns(
    rewards: np.ndarray,
    done: np.ndarray | None,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    bootstrap: np.ndarray | None,
    axis: int,
    result: np.dtype,
) -> np.ndarray:
    """``G[t] = r[t] + discount*(1-done[t])*G[t+1]``, ``G[T] = bootstrap``; a skipped
    step is ``a = 1, b = 0`` (its reward and flags are not read)."""
    shape = rewards.shape
    g: Any = discount if not isinstance(discount, np.ndarray) else np.broadcast_to(discount, shape)
    b, reset = rewards, done
    if valid is not None:  # temporaries of the input size: the linear scan has no mask
        g = np.where(valid, g, 1.0)
        b = np.where(valid, rewards, 0)
        reset = None if done is None else done & valid
    # a done step does not receive the carried state: exactly a reset (to the identity
    # 0), while the bootstrap is the state carried in before the last step only
    return _dispatch.run(
        "linear", b=b, a=g, init=bootstrap, reset=reset, axis=axis, reverse=True, out=None,
        result=result,
    )


def vtrace(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    log_rhos: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    lam: float | np.ndarray,
    clips: tuple[float, float, float],
    axis: int,
    result: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """V-trace ``(vs, pg_advantages)`` (:mod:`scanwise._kernels.rl.returns`); clips of None
    arrive as ``inf``."""
    from .._kernels.rl.returns import vtrace_time_major

    def call(outs3: list[Any], ins3: list[Any], rates3: list[Any]) -> None:
        vs3, pg3 = outs3
        stream = _layout.time_major(vs3) and _layout.streaming(vs3)
        clip3 = [vs3.dtype.type(c) for c in clips]  # float64 clips would widen the lanes
        vtrace_time_major(*ins3, *rates3, *clip3, vs3, pg3, _block(vs3), stream)

    vs, pg = _run(2, result, [rewards, values, next_values, log_rhos], [terminated, done, valid],
                  [discount, lam], axis, call)
    return vs, pg


def off_policy_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    next_q_taken: np.ndarray,
    traces: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    axis: int,
    result: np.dtype,
) -> np.ndarray:
    """``G[t] = r + g (1-terminated) (next_values + (1-done) traces (G[t+1] - next_q))``."""
    from .._kernels.rl.returns import off_policy_time_major

    def call(outs3: list[Any], ins3: list[Any], rates3: list[Any]) -> None:
        stream = _layout.time_major(outs3[0]) and _layout.streaming(outs3[0])
        off_policy_time_major(*ins3, *rates3, outs3[0], _block(outs3[0]), stream)

    return _run(1, result, [rewards, next_values, next_q_taken, traces],
                [terminated, done, valid], [discount], axis, call)[0]


def n_step_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    n: int,
    terminated: np.ndarray,
    done: np.ndarray,
    valid: np.ndarray | None,
    discount: float | np.ndarray,
    axis: int,
    result: np.dtype,
) -> np.ndarray:
    """n-step bootstrapped returns (:mod:`scanwise._kernels.rl.nstep`)."""
    from .._kernels.rl.nstep import nstep_rows, nstep_time_major

    n = min(n, rewards.shape[axis])  # a longer window is the whole series (and sizes the buffers)

    def call(outs3: list[Any], ins3: list[Any], rates3: list[Any]) -> None:
        r3, nv3, term3, done3, valid3 = ins3
        if valid3 is None and _layout.time_major(outs3[0]):
            nstep_time_major(r3, nv3, term3, done3, *rates3, n, outs3[0], _block(outs3[0], 16))
        else:
            nstep_rows(*ins3, *rates3, n, outs3[0])

    return _run(1, result, [rewards, next_values], [terminated, done, valid], [discount], axis,
                call)[0]
