"""Compute layer of the RL estimators (:mod:`scanwise.rl`): one fused pass for the TD
errors, then one reverse linear-recurrence scan, both through :mod:`scanwise._dispatch`
(no full-size temporaries).  Arguments arrive checked.
"""

from __future__ import annotations

import numpy as np

from . import _dispatch


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
) -> tuple[np.ndarray, np.ndarray]:
    """``delta = r + discount*(1-terminated)*next_values - values``;
    ``A[t] = delta[t] + discount*lam*(1-done[t])*A[t+1]``; returns ``(A, A + values)``."""
    shape = rewards.shape
    adv = np.empty_like(rewards, dtype=result)
    g = per_env(discount, axis, shape)
    _dispatch.elementwise(
        "td_error",
        [adv, rewards, values, next_values, terminated],
        g,
        axis=axis,
        result=result,
    )
    gl = discount * lam
    _dispatch.run(
        "linear",
        b=adv,
        a=per_env(gl, axis, shape),
        reset=done,
        axis=axis,
        reverse=True,
        out=adv,
        result=result,
    )
    returns = np.add(adv, values, dtype=result)
    return adv, returns


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
    if bootstrap is None:
        # a done step does not receive the carried state: exactly a reset (identity 0)
        return _dispatch.run(
            "linear", b=rewards, a=g, reset=done, axis=axis, reverse=True, out=None, result=result
        )
    # the bootstrap enters at the end only, while a done step restarts from 0, so the
    # done flags go into a per-step coefficient instead of `reset` (which restarts from
    # `initial`)
    a = np.broadcast_to(np.asarray(g, dtype=result), shape)
    if done is not None:
        a = np.where(done, np.zeros((), dtype=result), a)
    return _dispatch.run(
        "linear", b=rewards, a=a, init=bootstrap, axis=axis, reverse=True, out=None, result=result
    )
