"""Reinforcement-learning returns: GAE, TD(lambda), discounted, n-step and off-policy
returns (Retrace, Q(lambda), tree-backup) and V-trace.

Time is ``axis`` (default 0: ``[T, N, ...]`` as in Stable-Baselines3).  Inputs may be
NumPy arrays (or array-likes) or PyTorch tensors: tensors in, tensors out, with the
dtype and device of ``rewards`` (float32 stays float32).  No autograd.

Conventions (TorchRL's): ``next_values[t]`` is V of the observation actually reached
after step t, so a truncated episode bootstraps from it; ``terminated[t]`` says that
observation is terminal (no bootstrap); ``done[t]`` (default ``terminated``) says the
episode ended at t, terminated or truncated, and stops the advantage from flowing across.

Rates: ``discount`` and ``lam`` are numbers in [0, 1], arrays of the non-time shape
(one per env) or arrays with the input's number of dimensions (per step, time axis
included: rlax's ``discount_t``, adaptive lambda; length 1 along an axis broadcasts).
Skipped steps: ``valid`` (flags spanning the time axis, default all true) marks the
steps that exist; a skipped step is an identity step of the recursion (``a = 1, b =
0``): none of its inputs is read (NaN there reaches no output), the carried state
passes through unchanged and its outputs repeat the next valid step's (0 past the last
one; ``discounted_returns``: the bootstrap).  Token-level RL (prompt and padding tokens)
and the bogus transition of auto-resetting vector envs are the uses.

Labelled inputs: pandas, polars, xarray
---------------------------------------
pandas Series/DataFrames, eager polars Series/DataFrames and xarray DataArrays come back
as the same type: a DataFrame ``rewards`` gives DataFrames ``(advantages, returns)`` with
its index, columns (and a Series its name); a DataArray gives DataArrays with its dims,
coords, attrs and name (dask-backed stays lazy).  The *reference* is the first labelled
one of ``rewards``, ``values``, ``next_values`` (normally ``rewards``): the result takes
its type and labels, and time runs in its row order (its order along ``dim``), as in
every single-input scan (``Series.cumsum`` runs in row order too).  For pandas/polars
time runs along the rows (``axis`` must be 0, its default, or None; a DataFrame's
columns are the envs); for xarray ``dim=`` names the time dimension (optional for 1-D
input; ``axis`` is not used).  Every argument may be labelled: ``terminated``/``done``
(a Series beside a DataFrame is one flag per row; a DataArray needs the time dim and
is broadcast over the dims it lacks), ``discount``/``lam`` (one rate per env: a Series
indexed by the DataFrame's columns, a DataArray over non-time dims) and the
``bootstrap`` of :func:`discounted_returns` (the same, or a one-row DataFrame such as
``next_values.iloc[[-1]]``).  ``out=`` is NumPy-only (``TypeError``).

The pairing rule: **the same labels, in any order**.  Labelled inputs are matched by
label, never by position: ones whose index (columns, coordinates) holds the reference's
labels in another order are reindexed to the reference's order.  Ones whose labels
differ *as sets* are refused with a ``ValueError`` naming the argument and the labels
missing or extra (so are reorderings where a side has duplicate labels; identical
indexes, duplicates included, pair row by row).  Not pandas' outer join (nor xarray's
``arithmetic_join``), on purpose: every step of a rollout needs every input, and a
reverse recursion turns a gap into a wrong number for every earlier step of that env.
An outer join would feed NaN rewards/values/flags at the steps one input lacks, which
flow back into all earlier advantages up to the previous ``done`` (and NaN flags are
refused anyway); an inner join would drop those steps and chain the recursion across
the gap, discounting step t-1 by step t+1's advantage: a plausible wrong number, the
defect this rule exists to prevent.  Nor do we sort the union as pandas' arithmetic
does for unequal indexes: the row order *is* the time order, so it stays the
reference's, and NumPy arrays (lists) beside labelled inputs keep pairing with the
reference's rows (columns) by position, as in ``s + ndarray``.

polars objects carry no index: they pair by position, as polars' own frame arithmetic
does (column names are not matched; the result has the reference's names).  A polars
LazyFrame/expression is refused (``.collect()`` it).  Kinds mix only as far as their
labels allow: polars objects and NumPy arrays beside pandas ones pair by position; a
``TypeError`` refuses pandas/polars objects beside DataArrays (and the reverse), xarray
Datasets (pass their DataArrays), and torch tensors or dask arrays beside pandas/polars
inputs.  Labelled keywords beside only NumPy (torch, dask) inputs have no labels to meet
and pair by position, as in the core scans.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _dask, _frames, _polars, _returns, _rl_args, _torch
from . import _validate as v


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
    valid: ArrayLike | None = None,
    axis: int = 0,
    dim: str | None = None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, Any]:
    """Generalized advantage estimation; returns ``(advantages, returns)``.

    ``delta[t] = r[t] + discount * (1 - terminated[t]) * next_values[t] - values[t]``;
    ``A[t] = delta[t] + discount * lam * (1 - done[t]) * A[t+1]`` (``A[T] = 0``);
    ``returns = A + values`` (the TD(lambda) targets).

    ``discount`` and ``lam`` are numbers in [0, 1], arrays broadcastable to the non-time
    shape (per-env values) or arrays with the input's number of dimensions (per step,
    e.g. rlax's ``discount_t``; the module docstring).  Flags are bool or 0/1 numbers.
    ``valid`` (flags; default all true) marks the steps to use: a skipped step is an
    identity step, its inputs are not read and its ``advantages`` and ``returns``
    repeat those of the next valid step (0 past the last one).  pandas/polars/xarray inputs
    give results of the same type, paired by label (the module docstring; ``dim=`` names
    xarray's time dimension).  ``out=(adv, ret)`` (NumPy
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
    if dim is not None or _frames.any_frame(
        rewards, values, next_values, terminated, done, valid, discount, lam
    ):
        return _labelled(
            gae, {"rewards": rewards, "values": values, "next_values": next_values},
            {"terminated": terminated, "done": done, "valid": valid},
            {"discount": discount, "lam": lam}, {}, axis, dim, out,
        )
    if _dask.any_dask(rewards, values, next_values, terminated, done, valid, discount, lam):
        if out is not None:
            raise TypeError("out= takes NumPy arrays; it is not supported with dask inputs")
        from . import _dask_rl

        return _dask_rl.gae(rewards, values, next_values, terminated, done, valid, discount,
                            lam, axis)
    template = _torch.first_tensor(rewards, values, next_values)
    r, arrs, ax, _, result = _inputs(
        rewards, {"values": values, "next_values": next_values}, axis
    )
    term = _flags(terminated, r.shape, ax, "terminated")
    dn = term if done is None else _flags(done, r.shape, ax, "done")
    ok = _rl_args.valid(valid, r.shape, ax)
    g = _rl_args.rate(discount, "discount", r.shape, ax)
    lm = _rl_args.rate(lam, "lam", r.shape, ax)
    outs = None if out is None else _gae_out(out, r.shape, result, template)
    adv, ret = _returns.gae(
        r, arrs["values"], arrs["next_values"], term, dn, ok, g, lm, ax, result, outs
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
    valid: ArrayLike | None = None,
    axis: int = 0,
    dim: str | None = None,
) -> Any:
    """TD(lambda) targets ``G^lambda[t] = A[t] + values[t]``: the ``returns`` of :func:`gae`.

    Recursively, ``G[t] = r[t] + discount*(1-terminated[t])*next_values[t]
    + discount*lam*(1-done[t])*(G[t+1] - values[t+1])``.  Rates and ``valid`` as in
    :func:`gae` (a skipped step repeats the next valid step's target).

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
        valid=valid,
        axis=axis,
        dim=dim,
    )[1]


def discounted_returns(
    rewards: ArrayLike,
    *,
    discount: float | ArrayLike,
    done: ArrayLike | None = None,
    bootstrap: ArrayLike | None = None,
    valid: ArrayLike | None = None,
    axis: int = 0,
    dim: str | None = None,
) -> Any:
    """Discounted returns ``G[t] = r[t] + discount * (1 - done[t]) * G[t+1]``.

    ``G`` after the last step is ``bootstrap`` (shape of the non-time axes, default 0);
    a done step does not receive the return of the next episode.  ``discount`` is a
    number, per env or per step (as in :func:`gae`); a step where ``valid`` is false is
    skipped (``G[t] = G[t+1]``, its reward and flags not read).  pandas/polars/xarray
    inputs give results of the same type (the module docstring); a DataFrame's
    ``bootstrap`` is a Series by column label.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.discounted_returns(np.ones(4), discount=0.5, done=[0, 1, 0, 0],
        ...                             bootstrap=8.0)
        array([1.5, 1. , 3.5, 5. ])
    """
    if dim is not None or _frames.any_frame(rewards, done, valid, discount, bootstrap):
        return _labelled(
            discounted_returns, {"rewards": rewards}, {"done": done, "valid": valid},
            {"discount": discount}, {"bootstrap": bootstrap}, axis, dim, None,
        )
    if _dask.any_dask(rewards, done, bootstrap, valid, discount):
        from . import _dask_rl

        return _dask_rl.discounted_returns(rewards, done, valid, discount, bootstrap, axis)
    template = _torch.first_tensor(rewards)
    r, _, ax, _, result = _inputs(rewards, {}, axis)
    dn = None if done is None else _flags(done, r.shape, ax, "done")
    ok = _rl_args.valid(valid, r.shape, ax)
    g = _rl_args.rate(discount, "discount", r.shape, ax)
    boot = None
    if bootstrap is not None:
        boot = v.state(_torch.to_numpy(bootstrap, "bootstrap"), r.shape, ax, "bootstrap")
    out = _returns.discounted_returns(r, dn, ok, g, boot, ax, result)
    return _back(out, template, rewards, bootstrap)


def _unlabelled(fname: str, *args: Any) -> None:
    """The newer estimators take NumPy arrays, tensors and dask arrays only: refuse
    labelled inputs rather than pair them by position (a plausible wrong number)."""
    for arg in args:
        if _frames.kind(arg) is not None:
            raise TypeError(
                f"scanwise.{fname} takes NumPy arrays, torch tensors or dask arrays, got a "
                f"{_what(arg)}: pass its values (e.g. .to_numpy()) in the time order of "
                "rewards"
            )


def _prepare(
    rewards: Any, floats: dict[str, Any], terminated: Any, done: Any, valid: Any,
    discount: Any, axis: Any,
) -> tuple[np.ndarray, dict[str, np.ndarray], int, np.dtype, np.ndarray, np.ndarray,
           np.ndarray | None, float | np.ndarray]:
    """The checked NumPy operands of an estimator: ``(rewards, floats, axis, result dtype,
    terminated, done, valid, discount)``."""
    r, arrs, ax, _, result = _inputs(rewards, floats, axis)
    term = _flags(terminated, r.shape, ax, "terminated")
    dn = term if done is None else _flags(done, r.shape, ax, "done")
    ok = _rl_args.valid(valid, r.shape, ax)
    return r, arrs, ax, result, term, dn, ok, _rl_args.rate(discount, "discount", r.shape, ax)


def vtrace(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    *,
    log_rhos: ArrayLike,
    terminated: ArrayLike,
    done: ArrayLike | None = None,
    discount: float | ArrayLike,
    lam: float | ArrayLike = 1.0,
    clip_rho: float | None = 1.0,
    clip_c: float | None = 1.0,
    clip_pg_rho: float | None = 1.0,
    valid: ArrayLike | None = None,
    axis: int = 0,
) -> tuple[Any, Any]:
    """IMPALA's V-trace targets and policy-gradient advantages; returns
    ``(vs, pg_advantages)``.

    With ``rho = exp(log_rhos)`` (``log pi(a|s) - log mu(a|s)``: target over behaviour
    policy), ``rho_bar = min(clip_rho, rho)``, ``c = lam * min(clip_c, rho)`` (a clip of
    None: no clip) and ``g = discount``::

        delta[t] = rho_bar[t] * (r[t] + g[t] * (1 - terminated[t]) * next_values[t] - values[t])
        vs[t] - values[t] = delta[t] + g[t] * (1 - done[t]) * c[t] * (vs[t+1] - values[t+1])
        q[t] = lam * vs[t+1] + (1 - lam) * next_values[t]      (next_values[t] at a done
                                                                 step or the last step)
        pg_advantages[t] = min(clip_pg_rho, rho[t]) * (r[t] + g[t] * (1 - terminated[t])
                                                       * q[t] - values[t])

    (Espeholt et al. 2018, eq. 1; ``lam`` mixes as in rlax, ``lam = 1`` is IMPALA).  The
    correction is zero after the last step, and a ``done`` step cuts both the trace and
    ``q``: the next episode's ``vs`` never reaches this one.  ``discount`` and ``lam``
    are numbers, per env or per step (as in :func:`gae`).  A step where ``valid`` is
    false is skipped: nothing of it is read, its ``vs`` repeats the next valid step's
    (0 past the last one) and its ``pg_advantages`` is 0.  Computed in float64 (results
    in the inputs' dtype); tensors in, tensors out.

    TorchRL's ``vtrace_advantage_estimate`` is ``clip_pg_rho=clip_rho``, ``lam=1``;
    rlax's ``vtrace_td_error_and_advantage`` is ``terminated=False`` with its
    ``discount_t`` as a per-step ``discount``, ``next_values = v_t``.

    Example (on-policy, ``lam = 1``: ``vs`` is the discounted return):
        >>> import numpy as np, scanwise
        >>> vs, pg = scanwise.vtrace(np.ones(3), np.zeros(3), np.zeros(3),
        ...                          log_rhos=np.zeros(3), terminated=np.zeros(3, bool),
        ...                          discount=0.5)
        >>> vs, pg
        (array([1.75, 1.5 , 1.  ]), array([1.75, 1.5 , 1.  ]))
        >>> vs, _ = scanwise.vtrace(np.ones(3), np.zeros(3), np.zeros(3),
        ...                         log_rhos=np.log([4.0, 4.0, 0.5]), clip_rho=2.0,
        ...                         terminated=np.zeros(3, bool), discount=0.5)
        >>> vs  # rho_bar = (2, 2, 0.5), c = (1, 1, 0.5)
        array([3.125, 2.25 , 0.5  ])
    """
    _unlabelled("vtrace", rewards, values, next_values, log_rhos, terminated, done, valid,
                discount, lam)
    clips = (_rl_args.clip(clip_rho, "clip_rho"), _rl_args.clip(clip_c, "clip_c"),
             _rl_args.clip(clip_pg_rho, "clip_pg_rho"))
    if _dask.any_dask(rewards, values, next_values, log_rhos, terminated, done, valid,
                      discount, lam):
        from . import _dask_rl

        return _dask_rl.vtrace(rewards, values, next_values, log_rhos, terminated, done,
                               valid, discount, lam, clips, axis)
    template = _torch.first_tensor(rewards, values, next_values, log_rhos)
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"values": values, "next_values": next_values, "log_rhos": log_rhos},
        terminated, done, valid, discount, axis,
    )
    lm = _rl_args.rate(lam, "lam", r.shape, ax)
    vs, pg = _returns.vtrace(r, arrs["values"], arrs["next_values"], arrs["log_rhos"], term,
                             dn, ok, g, lm, clips, ax, result)
    tensors = (rewards, values, next_values, log_rhos)
    return _back(vs, template, *tensors), _back(pg, template, *tensors)


def n_step_returns(
    rewards: ArrayLike,
    next_values: ArrayLike,
    *,
    n: int,
    terminated: ArrayLike,
    done: ArrayLike | None = None,
    discount: float | ArrayLike,
    valid: ArrayLike | None = None,
    axis: int = 0,
) -> Any:
    """n-step bootstrapped returns::

        G[t] = sum_{k<m} Gamma_k r[t+k] + Gamma_m (1 - terminated[t+m-1]) next_values[t+m-1]

    with ``Gamma_k = prod_{j<k} discount[t+j]`` and ``m <= n`` stopping at the first
    ``done`` step at or after ``t`` or at the last step of the array (whose
    ``next_values`` bootstraps, as a truncated step's does).  ``n = 1`` gives the
    one-step TD targets; ``n >= T`` without ``done`` the discounted returns bootstrapped
    at the end.  ``discount`` is a number, per env or per step (as in :func:`gae`).
    With ``valid``, skipped steps take no place in the window (it spans ``n`` valid
    steps) and repeat the next valid step's return (0 past the last one).

    O(T) for any ``n`` and exact for per-step discounts (a discount of 0 included): a
    sliding window over compositions of the steps' affine maps, never a division by a
    product of discounts (:mod:`scanwise._kernels.nstep`).  rlax's
    ``n_step_bootstrapped_returns`` is ``terminated=False`` with its ``discount_t``
    per step and ``next_values = v_t``.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.n_step_returns(np.ones(4), np.full(4, 10.0), n=2,
        ...                         terminated=[0, 0, 0, 1], discount=0.5)
        array([4. , 4. , 1.5, 1. ])
    """
    _unlabelled("n_step_returns", rewards, next_values, terminated, done, valid, discount)
    steps = _rl_args.steps(n)
    if _dask.any_dask(rewards, next_values, terminated, done, valid, discount):
        from . import _dask_rl

        return _dask_rl.n_step_returns(rewards, next_values, steps, terminated, done, valid,
                                       discount, axis)
    template = _torch.first_tensor(rewards, next_values)
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"next_values": next_values}, terminated, done, valid, discount, axis
    )
    out = _returns.n_step_returns(r, arrs["next_values"], steps, term, dn, ok, g, ax, result)
    return _back(out, template, rewards, next_values)


def off_policy_returns(
    rewards: ArrayLike,
    next_values: ArrayLike,
    next_q_taken: ArrayLike,
    *,
    traces: ArrayLike,
    terminated: ArrayLike,
    done: ArrayLike | None = None,
    discount: float | ArrayLike,
    valid: ArrayLike | None = None,
    axis: int = 0,
) -> Any:
    """The general off-policy return (Retrace, Q(lambda), tree-backup, ...)::

        G[t] = r[t] + g[t] (1 - terminated[t])
                    * (next_values[t] + (1 - done[t]) traces[t] (G[t+1] - next_q_taken[t]))

    in per-transition form: ``next_values[t] = E_pi Q(s_{t+1}, .)``, ``next_q_taken[t] =
    Q(s_{t+1}, a_{t+1})`` and ``traces[t]`` the trace of the next action ``a_{t+1}``
    (:func:`retrace_traces`, :func:`q_lambda_traces`, :func:`tree_backup_traces`).  The
    trace term is dropped at a ``done`` step and at the last step (rlax's
    ``general_off_policy_returns_from_q_and_v``, whose last step bootstraps from ``v``).
    ``discount`` is a number, per env or per step.  A step where ``valid`` is false is
    skipped (nothing of it read, its ``G`` repeats the next valid step's, 0 past the
    last one).

    Example (traces 0: one-step targets; traces 1 and ``next_q_taken = next_values``:
    the discounted return):
        >>> import numpy as np, scanwise
        >>> r, nv = np.ones(3), np.full(3, 5.0)
        >>> scanwise.off_policy_returns(r, nv, nv, traces=np.zeros(3),
        ...                             terminated=np.zeros(3, bool), discount=0.5)
        array([3.5, 3.5, 3.5])
        >>> scanwise.off_policy_returns(r, nv, nv, traces=np.ones(3),
        ...                             terminated=np.zeros(3, bool), discount=0.5)
        array([2.375, 2.75 , 3.5  ])
    """
    _unlabelled("off_policy_returns", rewards, next_values, next_q_taken, traces, terminated,
                done, valid, discount)
    if _dask.any_dask(rewards, next_values, next_q_taken, traces, terminated, done, valid,
                      discount):
        from . import _dask_rl

        return _dask_rl.off_policy_returns(rewards, next_values, next_q_taken, traces,
                                           terminated, done, valid, discount, axis)
    template = _torch.first_tensor(rewards, next_values, next_q_taken, traces)
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"next_values": next_values, "next_q_taken": next_q_taken, "traces": traces},
        terminated, done, valid, discount, axis,
    )
    out = _returns.off_policy_returns(r, arrs["next_values"], arrs["next_q_taken"],
                                      arrs["traces"], term, dn, ok, g, ax, result)
    return _back(out, template, rewards, next_values, next_q_taken, traces)


def _elementwise(fn: Callable[[np.ndarray], np.ndarray], value: Any, name: str) -> Any:
    """``fn`` of a NumPy array or tensor (tensor in, tensor out) or dask array."""
    if _dask.any_dask(value):
        return value.map_blocks(fn, dtype=np.result_type(value.dtype, np.float16))
    template = _torch.first_tensor(value)
    arr = v.as_numeric(_torch.to_numpy(value, name), name)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    out = fn(arr.astype(np.result_type(arr, np.float16), copy=False))
    return _back(np.asarray(out), template, value)


def retrace_traces(next_log_rhos: ArrayLike, *, lam: float = 1.0) -> Any:
    """Retrace's traces (Munos et al. 2016) for :func:`off_policy_returns`:
    ``lam * min(1, exp(next_log_rhos))``, with ``next_log_rhos[t] = log pi(a_{t+1} |
    s_{t+1}) - log mu(a_{t+1} | s_{t+1})``.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.retrace_traces(np.log([0.5, 2.0]), lam=0.9)
        array([0.45, 0.9 ])
    """
    lm = float(v.rate(lam, "lam"))
    return _elementwise(lambda x: lm * np.minimum(1.0, np.exp(x)), next_log_rhos,
                        "next_log_rhos")


def q_lambda_traces(next_log_rhos: ArrayLike, *, lam: float = 1.0) -> Any:
    """Peng's / Watkins-free Q(lambda) traces (Harutyunyan et al. 2016) for
    :func:`off_policy_returns`: ``lam`` at every step, whatever the policies (the
    argument only gives the shape and type).

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.q_lambda_traces(np.log([0.5, 2.0]), lam=0.9)
        array([0.9, 0.9])
    """
    lm = float(v.rate(lam, "lam"))
    return _elementwise(lambda x: np.full_like(x, lm), next_log_rhos, "next_log_rhos")


def tree_backup_traces(next_pi_taken: ArrayLike, *, lam: float = 1.0) -> Any:
    """Tree-backup traces (Precup et al. 2000) for :func:`off_policy_returns`:
    ``lam * pi(a_{t+1} | s_{t+1})``, with ``next_pi_taken[t]`` that probability.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.tree_backup_traces(np.array([0.5, 1.0]), lam=0.9)
        array([0.45, 0.9 ])
    """
    lm = float(v.rate(lam, "lam"))
    return _elementwise(lambda x: lm * x, next_pi_taken, "next_pi_taken")


# --- labelled inputs: pandas, polars, xarray (the module docstring's rules) --------


def _labelled(
    fn: Callable[..., Any],
    arrays: dict[str, Any],
    flags: dict[str, Any],
    rates: dict[str, Any],
    states: dict[str, Any],
    axis: Any,
    dim: Any,
    out: Any,
) -> Any:
    """``fn`` (:func:`gae` or :func:`discounted_returns`) on labelled inputs: each
    argument converted to NumPy by the pairing rule, ``fn``'s NumPy path, the results
    wrapped back as the reference's type."""
    _refuse_lazy({**arrays, **flags, **rates, **states}, fn.__name__)
    ref = _reference(arrays)
    if ref is None:  # labelled keywords beside unlabelled inputs: by position, as before
        if dim is not None:
            raise ValueError("dim= is for xarray inputs; use axis= for arrays")
        conv = {n: _plain(a, n, flag=n in flags) for n, a in {**arrays, **flags}.items()}
        conv.update((n, _plain(a, n)) for n, a in {**rates, **states}.items())
        return fn(**conv, axis=axis, **({} if out is None else {"out": out}))
    name, like, kind = ref
    if out is not None:
        raise TypeError(
            f"out= takes NumPy arrays; it is not supported with {_what(like)} input "
            f"({name}); the result is a new {_what(like)}"
        )
    if kind == "xarray":
        conv, ax, back = _xarray_args(name, like, arrays, flags, rates, states, axis, dim)
    else:
        if dim is not None:
            raise ValueError("dim= is for xarray inputs; use axis= for arrays")
        if axis not in (None, 0):
            raise ValueError(
                f"axis must be None or 0 for {_what(like)} input (time runs along the "
                f"rows), got {axis!r}"
            )
        args = _pandas_args if kind == "pandas" else _polars_args
        conv, back = args(name, like, arrays, flags, rates, states)
        ax = 0
    result = fn(**conv, axis=ax)
    return tuple(back(r) for r in result) if isinstance(result, tuple) else back(result)


def _what(obj: Any) -> str:
    return f"{type(obj).__module__.split('.')[0]} {type(obj).__name__}"


def _reference(arrays: dict[str, Any]) -> tuple[str, Any, str] | None:
    """The input whose type and labels the result takes: the first DataArray, else the
    first pandas object, else the first polars one, among the per-step arrays."""
    kinds = {n: _frames.kind(a) for n, a in arrays.items()}
    for kind in ("xarray", "pandas", "polars"):
        name = next((n for n, k in kinds.items() if k == kind), None)
        if name is not None:
            return name, arrays[name], kind
    return None


def _refuse_lazy(values: dict[str, Any], fname: str) -> None:
    pl = sys.modules.get("polars")
    xr = sys.modules.get("xarray")
    for name, val in values.items():
        if pl is not None and isinstance(val, (pl.LazyFrame, pl.Expr)):
            raise TypeError(
                f"{name} is a polars {type(val).__name__}; scanwise.{fname} takes eager "
                "polars Series/DataFrames: .collect() the LazyFrame (select the columns) "
                "first"
            )
        if xr is not None and isinstance(val, xr.Dataset):
            raise TypeError(
                f"{name} is an xarray Dataset; scanwise.{fname} takes DataArrays: pass "
                f"its variables (e.g. ds['{name}'])"
            )


def _plain(value: Any, name: str, flag: bool = False) -> Any:
    """A labelled object with no labelled input to meet, as its values (by position)."""
    kind = _frames.kind(value)
    if kind == "pandas":
        return _frames.to_numpy(value)
    if kind == "polars":
        return _polars.flags(value, name) if flag else _polars.to_numpy(value, name)
    if kind == "xarray":
        return value.values
    return value


def _positional(value: Any, name: str, ref: str, like: Any, flag: bool = False) -> Any:
    """An argument without labels of the reference's kind: by position (NumPy, lists,
    polars objects beside pandas ones); objects whose pairing would be a guess are
    refused."""
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, list)):
        return value
    kind = _frames.kind(value)
    mine = _frames.kind(like)
    if _torch.is_tensor(value) or (_dask.any_dask(value) and mine != "xarray"):
        raise TypeError(
            f"{name} is a {_what(value)} and {ref} a {_what(like)}: they do not mix; "
            f"pass {name} as a NumPy array or a {_what(like)}"
        )
    if kind is None:
        return value
    if mine == "xarray" or kind == "xarray":
        raise TypeError(
            f"{name} is a {_what(value)} and {ref} a {_what(like)}: their labels cannot be "
            f"paired; convert {name} to a {_what(like)} (or a NumPy array) first"
        )
    return _plain(value, name, flag)  # polars beside pandas, pandas beside polars keywords


def _same_labels(have: Any, want: Any, what: str, name: str, ref: str) -> bool:
    """Whether ``have`` (``name``'s labels) must be reindexed to ``want`` (``ref``'s):
    False when equal, True when the same labels in another order; ValueError naming
    ``name`` when they differ as sets or a reordering meets duplicate labels."""
    if have.equals(want):
        return False
    if not (have.is_unique and want.is_unique):
        raise ValueError(
            f"{name} and {ref} have different {what} labels and one of them has duplicates, "
            f"so {name} cannot be matched to {ref} by label; give both the same {what} "
            "(identical labels, duplicates included, pair row by row) or unique labels"
        )
    missing = want[~np.asarray(want.isin(have))]
    extra = have[~np.asarray(have.isin(want))]
    if len(missing) or len(extra):
        parts = [f"{label} {list(idx[:3])}{' ...' if len(idx) > 3 else ''}"
                 for label, idx in (("missing", missing), ("extra", extra)) if len(idx)]
        raise ValueError(
            f"{name} does not have the same {what} labels as {ref} ({', '.join(parts)}): "
            "the RL estimators need every input at every step (and env), so labelled "
            "inputs must carry the same labels, in any order (they are matched by label); "
            f"select or reindex {name} to the labels of {ref} first"
        )
    return True


# pandas


def _pd_labels(obj: Any, axis: str, want: Any, what: str, name: str, ref: str) -> Any:
    have = obj.index if axis == "index" else obj.columns
    return obj.reindex(**{axis: want}) if _same_labels(have, want, what, name, ref) else obj


def _pd_match(obj: Any, like: Any, name: str, ref: str) -> Any:
    obj = _pd_labels(obj, "index", like.index, "index (row)", name, ref)
    if obj.ndim == 2:
        obj = _pd_labels(obj, "columns", like.columns, "column", name, ref)
    return obj


def _pandas_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any],
) -> tuple[dict[str, Any], Callable[[np.ndarray], Any]]:
    pd = sys.modules["pandas"]
    frame = (pd.Series, pd.DataFrame)
    wide = like.ndim == 2
    what = type(like).__name__
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, frame):
            if a.ndim != like.ndim:
                raise ValueError(
                    f"{name} is a {type(a).__name__} but {ref} is a {what}: {name} needs a "
                    f"value at every step{' of every env (column)' if wide else ''}, so give "
                    f"it as a {what} with the labels of {ref}"
                )
            conv[name] = _frames.to_numpy(_pd_match(a, like, name, ref))
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, pd.DataFrame):
            if not wide:
                raise ValueError(
                    f"{name} is a DataFrame but {ref} is a Series: pass a Series of flags, "
                    "one per step"
                )
            conv[name] = _frames.to_numpy(_pd_match(f, like, name, ref))
        elif isinstance(f, pd.Series):
            arr = _frames.to_numpy(_pd_labels(f, "index", like.index, "index (row)", name, ref))
            conv[name] = arr[:, None] if wide else arr  # one flag per row
        else:
            conv[name] = _row_flags(_positional(f, name, ref, like, flag=True), like)
    for name, val in {**rates, **states}.items():
        if isinstance(val, frame) and not wide:
            raise TypeError(
                f"{name} is a pandas {type(val).__name__} but {ref} is a Series (one env): "
                "pass a number"
            )
        if isinstance(val, pd.DataFrame):
            if name in rates:
                raise TypeError(
                    f"{name} must be a number or a pandas Series with one rate per column "
                    f"of {ref} (indexed by the column labels), got a DataFrame"
                )
            if len(val) != 1:
                raise ValueError(
                    f"{name} as a DataFrame must have exactly one row (one value per "
                    f"column), got {len(val)} rows"
                )
            val = _pd_labels(val, "columns", like.columns, "column", name, ref)
            conv[name] = _frames.to_numpy(val)[0]
        elif isinstance(val, pd.Series):  # one value per column, by column label
            val = _pd_labels(val, "index", like.columns, "column", name, ref)
            conv[name] = _frames.to_numpy(val)
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, lambda result: _frames.wrap(result, like)


def _row_flags(value: Any, like: Any) -> Any:
    """A 1-D flag array beside a DataFrame marks its rows (one flag per step)."""
    if len(like.shape) == 2 and np.ndim(value) == 1 and len(value) == like.shape[0]:
        return np.asarray(value)[:, None]
    return value


# polars (no index: by position, as polars' own frame arithmetic)


def _polars_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any],
) -> tuple[dict[str, Any], Callable[[np.ndarray], Any]]:
    pl = sys.modules["polars"]
    frame = (pl.Series, pl.DataFrame)
    wide = isinstance(like, pl.DataFrame)
    what = type(like).__name__
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, frame):
            if isinstance(a, pl.DataFrame) != wide:
                raise ValueError(
                    f"{name} is a polars {type(a).__name__} but {ref} is a {what}: {name} "
                    f"needs a value at every step{' of every env (column)' if wide else ''}, "
                    f"so give it as a {what} of the shape of {ref}"
                )
            conv[name] = _polars.to_numpy(a, name)
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, frame):
            conv[name] = _row_flags(_polars.flags(f, name), like)
        else:
            conv[name] = _row_flags(_positional(f, name, ref, like, flag=True), like)
    for name, val in {**rates, **states}.items():
        if isinstance(val, frame) and not wide:
            raise TypeError(
                f"{name} is a polars {type(val).__name__} but {ref} is a Series (one env): "
                "pass a number"
            )
        if isinstance(val, pl.DataFrame):
            if name in rates:
                raise TypeError(
                    f"{name} must be a number or a polars Series with one rate per column "
                    f"of {ref}, got a DataFrame"
                )
            if val.height != 1:
                raise ValueError(
                    f"{name} as a DataFrame must have exactly one row (one value per "
                    f"column), got {val.height} rows"
                )
            conv[name] = _polars.to_numpy(val, name)[0]
        elif isinstance(val, pl.Series):
            conv[name] = _polars.to_numpy(val, name)
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, lambda result: _polars.wrap(result, like)


# xarray (by coordinate, along dim=)


def _xr_match(obj: Any, like: Any, name: str, ref: str) -> Any:
    """``obj`` reindexed to ``like``'s coordinates (the same labels, any order)."""
    for d in obj.dims:
        if d not in like.dims:
            raise ValueError(f"{name} has dim {d!r}, which {ref} (dims {like.dims}) lacks")
        if d in obj.indexes and d in like.indexes:
            if _same_labels(obj.indexes[d], like.indexes[d], f"{d!r} coordinate", name, ref):
                obj = obj.reindex({d: like.indexes[d]})
        elif obj.sizes[d] != like.sizes[d]:
            raise ValueError(
                f"{name} has {obj.sizes[d]} entries along {d!r} but {ref} has "
                f"{like.sizes[d]}"
            )
    return obj


def _xarray_args(
    ref: str, like: Any, arrays: dict[str, Any], flags: dict[str, Any],
    rates: dict[str, Any], states: dict[str, Any], axis: Any, dim: Any,
) -> tuple[dict[str, Any], int, Callable[[Any], Any]]:
    xr = sys.modules["xarray"]
    if axis not in (None, 0):
        raise ValueError(f"xarray input takes dim= (a dimension name), not axis={axis!r}")
    if dim is None:
        if like.ndim != 1:
            raise ValueError(f"dim must be given for a DataArray with dims {like.dims}")
        dim = like.dims[0]
    if dim not in like.dims:
        raise ValueError(f"dim {dim!r} is not one of the dims of {ref} {like.dims}")
    conv: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, xr.DataArray):
            if set(a.dims) != set(like.dims):
                raise ValueError(
                    f"{name} has dims {a.dims} but {ref} has dims {like.dims}: {name} needs a "
                    f"value at every step of every env, so give it the dims of {ref}"
                )
            conv[name] = _xr_match(a, like, name, ref).transpose(*like.dims).data
        else:
            conv[name] = _positional(a, name, ref, like)
    for name, f in flags.items():
        if isinstance(f, xr.DataArray):
            if dim not in f.dims:
                raise ValueError(
                    f"{name} has dims {f.dims}, without the time dim {dim!r}: flags mark "
                    f"steps, so give {name} the dim {dim!r} (other dims may be left out: "
                    "one flag per step shared by them)"
                )
            f = _xr_match(f, like, name, ref)
            conv[name] = f.broadcast_like(like).transpose(*like.dims).data
        else:
            conv[name] = _positional(f, name, ref, like, flag=True)
    rest = like.isel({dim: 0}, drop=True)
    for name, val in {**rates, **states}.items():
        if isinstance(val, xr.DataArray):
            if dim in val.dims:
                raise ValueError(
                    f"{name} has the time dim {dim!r}, but it is one value per env: give "
                    f"it only (some of) the other dims {rest.dims}"
                )
            val = _xr_match(val, like, name, ref)
            conv[name] = val.broadcast_like(rest).transpose(*rest.dims).values
        else:
            conv[name] = _positional(val, name, ref, like)
    return conv, like.get_axis_num(dim), lambda result: like.copy(data=result)
