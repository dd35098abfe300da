"""Compute layer of the RL estimators (:mod:`scanwise.rl`).  ``gae`` is one fused reverse
pass (:mod:`scanwise._kernels.returns`) that reads every input once and writes both
outputs; the discounted returns are one reverse linear-recurrence scan through
:mod:`scanwise._dispatch`.  No full-size temporaries.  Arguments arrive checked.
"""

from __future__ import annotations

import numpy as np

from . import _dispatch, _layout


def per_env(value: float | np.ndarray, axis: int, shape: tuple[int, ...]) -> float | np.ndarray:
    """A number stays a number; a non-time-shaped array is broadcast along the time axis."""
    if isinstance(value, np.ndarray):
        return np.broadcast_to(np.expand_dims(value, axis), shape)
    return value


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    discount: float | np.ndarray,
    lam: float | np.ndarray,
    axis: int,
    result: np.dtype,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``delta = r + discount*(1-terminated)*next_values - values``;
    ``A[t] = delta[t] + discount*lam*(1-done[t])*A[t+1]``; returns ``(A, A + values)``,
    written into ``out`` (checked arrays of the shape) when given."""
    from ._dispatch import _unalias, compute_dtype

    cdt = compute_dtype(result)
    targets = [
        o if out is not None and o.dtype == cdt else np.empty_like(rewards, dtype=cdt)
        for o in (out or (None, None))
    ]
    inputs = [rewards, values, next_values, terminated, done]
    for target in targets:  # an input read at the very position written is safe
        inputs = [_unalias(x, target, axis, elementwise=True) for x in inputs]
    if targets[0].size:
        _gae_kernel(targets, inputs[:3], *inputs[3:], discount, lam, axis)
    if out is not None:
        for o, target in zip(out, targets, strict=True):
            if o is not target:
                np.copyto(o, target, casting="same_kind")
        return out
    if cdt != result:
        return targets[0].astype(result), targets[1].astype(result)
    return targets[0], targets[1]


def _gae_kernel(
    outs: list[np.ndarray],
    floats: list[np.ndarray],
    terminated: np.ndarray,
    done: np.ndarray,
    discount: float | np.ndarray,
    lam: float | np.ndarray,
    axis: int,
) -> None:
    """Run the fused GAE kernel (:mod:`scanwise._kernels.returns`) on canonical views."""
    from ._kernels.returns import gae_rows, gae_time_major

    cdt = outs[0].dtype
    shape = outs[0].shape
    floats = [f.astype(cdt, copy=False) for f in floats]
    rates = []
    for rate in (discount, discount * lam):
        if isinstance(rate, np.ndarray):
            rates.append(per_env(rate.astype(cdt), axis, shape))
        else:
            rates.append(cdt.type(rate))
    arrays = [*outs, *floats, terminated, done, *(x for x in rates if isinstance(x, np.ndarray))]
    for views in _layout.canonical(shape, axis, arrays, writeable=2):
        adv3, ret3, r3, v3, nv3, term3, done3 = views[:7]
        rest = iter(views[7:])
        g, gl = (next(rest) if isinstance(x, np.ndarray) else x for x in rates)
        if _layout.time_major(adv3):
            block = _layout.lane_block(adv3, _dispatch.threads(), GAE_MIN_LANES)
            # both outputs are written as unit-stride rows (``out=`` arrays may differ)
            stream = _layout.streaming(adv3) and _layout.streaming(ret3)
            gae_time_major(r3, v3, nv3, term3, done3, g, gl, adv3, ret3, block, stream)
        else:
            gae_rows(r3, v3, nv3, term3, done3, g, gl, adv3, ret3)


GAE_MIN_LANES = 64


def discounted_returns(
    rewards: np.ndarray,
    done: np.ndarray | None,
    discount: float | np.ndarray,
    bootstrap: np.ndarray | None,
    axis: int,
    result: np.dtype,
) -> np.ndarray:
    """``G[t] = r[t] + discount*(1-done[t])*G[t+1]``, ``G[T] = bootstrap``."""
    shape = rewards.shape
    g = per_env(discount, axis, shape)
    # a done step does not receive the carried state: exactly a reset (to the identity
    # 0), while the bootstrap is the state carried in before the last step only
    return _dispatch.run(
        "linear", b=rewards, a=g, init=bootstrap, reset=done, axis=axis, reverse=True,
        out=None, result=result,
    )
