"""Reinforcement-learning returns: GAE, discounted returns and TD(lambda) targets.

Time is ``axis`` (default 0: ``[T, N, ...]`` as in Stable-Baselines3).  Inputs may be
NumPy arrays (or array-likes) or PyTorch tensors: tensors in, tensors out, with the
dtype and device of ``rewards`` (float32 stays float32).  No autograd.

Conventions (TorchRL's): ``next_values[t]`` is V of the observation actually reached
after step t, so a truncated episode bootstraps from it; ``terminated[t]`` says that
observation is terminal (no bootstrap); ``done[t]`` (default ``terminated``) says the
episode ended at t, terminated or truncated, and stops the advantage from flowing across.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _dask, _returns, _torch
from . import _validate as v


def _rate(value: Any, name: str, reduced: tuple[int, ...]) -> float | np.ndarray:
    """A number in [0, 1], or an array of them broadcastable to the non-time shape."""
    arr = v.rate(_torch.to_numpy(value, name), name)
    if arr.ndim == 0:
        return float(arr)
    try:
        return np.broadcast_to(arr, reduced)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not broadcast to the non-time shape {reduced}"
        ) from None


def _inputs(
    rewards: Any, others: dict[str, Any], axis: Any
) -> tuple[np.ndarray, dict[str, np.ndarray], int, tuple[int, ...], np.dtype]:
    r = v.as_numeric(_torch.to_numpy(rewards, "rewards"), "rewards")
    ax = v.scan_axis(axis, r.ndim, "rewards")
    arrays = {}
    for name, value in others.items():
        arr = v.as_numeric(_torch.to_numpy(value, name), name)
        if arr.shape != r.shape:
            raise ValueError(
                f"{name} has shape {arr.shape}, expected the shape of rewards {r.shape}"
            )
        arrays[name] = arr
    result = np.result_type(r, *arrays.values(), np.float16)
    if result.kind not in "f":
        raise TypeError(f"rewards and values must be real, got dtype {result}")
    reduced = r.shape[:ax] + r.shape[ax + 1 :]
    return r, arrays, ax, reduced, result


def _flags(value: Any, shape: tuple[int, ...], axis: int, name: str) -> np.ndarray:
    return v.step_flags(_torch.to_numpy(value, name), shape, axis, name)


def _back(result: np.ndarray, template: Any, *tensors: Any) -> Any:
    """The result as a tensor like ``template`` (None: NumPy), in torch's promotion of
    the tensor inputs (integers give the default float dtype, never a truncation)."""
    if template is None:
        return result
    return _torch.like(result, template, _torch.result_dtype(*tensors))


def gae(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    *,
    terminated: ArrayLike,
    done: ArrayLike | None = None,
    discount: float | ArrayLike,
    lam: float | ArrayLike,
    axis: int = 0,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, Any]:
    """Generalized advantage estimation; returns ``(advantages, returns)``.

    ``delta[t] = r[t] + discount * (1 - terminated[t]) * next_values[t] - values[t]``;
    ``A[t] = delta[t] + discount * lam * (1 - done[t]) * A[t+1]`` (``A[T] = 0``);
    ``returns = A + values`` (the TD(lambda) targets).

    ``discount`` and ``lam`` are numbers in [0, 1] or arrays broadcastable to the non-time
    shape (per-env values).  Flags are bool or 0/1 numbers.  ``out=(adv, ret)`` (NumPy
    arrays of the input shape) writes the results in place, e.g. into the buffers a PPO
    loop reuses every rollout; either may be an input (``out=(rewards, values)``).

    Example (TorchRL layout, one episode truncated at t=1 and one terminated at t=3):
        >>> import numpy as np, scanwise
        >>> r = np.ones(4); v = np.zeros(4); nv = np.full(4, 10.0)
        >>> term = np.array([0, 0, 0, 1], bool); done = np.array([0, 1, 0, 1], bool)
        >>> adv, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.5, lam=1.0)
        >>> adv
        array([9. , 6. , 6.5, 1. ])

    Stable-Baselines3 (``RolloutBuffer`` of shape [T, N] with ``episode_starts``,
    ``last_values``, ``dones`` after the last step; truncation already folded into the
    rewards by SB3) gives identical numbers with::

        next_values = np.concatenate([values[1:], last_values[None]])
        ended = np.concatenate([episode_starts[1:], dones[None]]).astype(bool)
        adv, ret = scanwise.gae(rewards, values, next_values, terminated=ended,
                                discount=gamma, lam=gae_lambda)

    CleanRL PPO (``dones[t]`` flags the observation at t, ``next_done``, ``next_value``)
    is the same mapping with ``episode_starts = dones``, ``dones = next_done`` and
    ``last_values = next_value``.  rlax ``truncated_generalized_advantage_estimation``
    (``values`` with T+1 entries, ``discount_t = gamma * (1 - terminal_t)``)::

        adv, _ = scanwise.gae(r_t, values[:-1], values[1:], terminated=discount_t == 0,
                              discount=gamma, lam=lambda_)
    """
    if _dask.any_dask(rewards, values, next_values, terminated, done):
        if out is not None:
            raise TypeError("out= takes NumPy arrays; it is not supported with dask inputs")
        return _dask.gae(rewards, values, next_values, terminated, done, discount, lam, axis)
    template = _torch.first_tensor(rewards, values, next_values)
    r, arrs, ax, reduced, result = _inputs(
        rewards, {"values": values, "next_values": next_values}, axis
    )
    term = _flags(terminated, r.shape, ax, "terminated")
    dn = term if done is None else _flags(done, r.shape, ax, "done")
    g = _rate(discount, "discount", reduced)
    lm = _rate(lam, "lam", reduced)
    outs = None if out is None else _gae_out(out, r.shape, result, template)
    adv, ret = _returns.gae(
        r, arrs["values"], arrs["next_values"], term, dn, g, lm, ax, result, outs
    )
    tensors = (rewards, values, next_values)
    return _back(adv, template, *tensors), _back(ret, template, *tensors)


def _gae_out(
    out: Any, shape: tuple[int, ...], result: np.dtype, template: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``out=(advantages, returns)``: two distinct writeable arrays of the shape."""
    if template is not None:
        raise TypeError("out= takes NumPy arrays; it is not supported with torch tensors")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError("out must be a tuple (advantages, returns) of two numpy arrays")
    adv, ret = (v.out_array(o, shape, result) for o in out)
    if np.may_share_memory(adv, ret):
        raise ValueError("out: the advantages and returns arrays must not overlap")
    return adv, ret


def lambda_returns(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    *,
    terminated: ArrayLike,
    done: ArrayLike | None = None,
    discount: float | ArrayLike,
    lam: float | ArrayLike,
    axis: int = 0,
) -> Any:
    """TD(lambda) targets ``G^lambda[t] = A[t] + values[t]``: the ``returns`` of :func:`gae`.

    Recursively, ``G[t] = r[t] + discount*(1-terminated[t])*next_values[t]
    + discount*lam*(1-done[t])*(G[t+1] - values[t+1])``.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.lambda_returns(np.ones(3), np.zeros(3), np.zeros(3),
        ...                         terminated=[0, 0, 1], discount=1.0, lam=1.0)
        array([3., 2., 1.])
    """
    return gae(
        rewards,
        values,
        next_values,
        terminated=terminated,
        done=done,
        discount=discount,
        lam=lam,
        axis=axis,
    )[1]


def discounted_returns(
    rewards: ArrayLike,
    *,
    discount: float | ArrayLike,
    done: ArrayLike | None = None,
    bootstrap: ArrayLike | None = None,
    axis: int = 0,
) -> Any:
    """Discounted returns ``G[t] = r[t] + discount * (1 - done[t]) * G[t+1]``.

    ``G`` after the last step is ``bootstrap`` (shape of the non-time axes, default 0);
    a done step does not receive the return of the next episode.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.discounted_returns(np.ones(4), discount=0.5, done=[0, 1, 0, 0],
        ...                             bootstrap=8.0)
        array([1.5, 1. , 3.5, 5. ])
    """
    if _dask.any_dask(rewards, done, bootstrap):
        return _dask.discounted_returns(rewards, done, discount, bootstrap, axis)
    template = _torch.first_tensor(rewards)
    r, _, ax, reduced, result = _inputs(rewards, {}, axis)
    dn = None if done is None else _flags(done, r.shape, ax, "done")
    g = _rate(discount, "discount", reduced)
    boot = None
    if bootstrap is not None:
        boot = v.state(_torch.to_numpy(bootstrap, "bootstrap"), r.shape, ax, "bootstrap")
    out = _returns.discounted_returns(r, dn, g, boot, ax, result)
    return _back(out, template, rewards, bootstrap)
