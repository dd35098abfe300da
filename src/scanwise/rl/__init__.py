"""Reinforcement-learning returns: GAE, TD(lambda), discounted, n-step and off-policy
returns (Retrace, Q(lambda), tree-backup) and V-trace.

Time is ``axis`` (default 0: ``[T, N, ...]`` as in Stable-Baselines3).  Inputs may be
NumPy arrays (or array-likes) or PyTorch tensors: tensors in, tensors out, with the
dtype and device of ``rewards`` (float32 stays float32).  ``gae``, ``lambda_returns`` and
``discounted_returns`` are differentiable in their tensor inputs (the torch backend runs
them as torch ops around the differentiable linear scan when a tensor requires grad);
``vtrace``, ``n_step_returns``, ``off_policy_returns`` and the traces are not (a tensor
that requires grad is refused).

Conventions (TorchRL's): ``next_values[t]`` is V of the observation actually reached
after step t, so a truncated episode bootstraps from it; ``terminated[t]`` says that
observation is terminal (no bootstrap); ``done[t]`` (default ``terminated``) says the
episode ended at t, terminated or truncated, and stops the advantage from flowing across.

Rates: ``discount`` and ``lam`` are numbers in [0, 1], arrays of the non-time shape
(one per env) or arrays with the input's number of dimensions (per step, time axis
included: rlax's ``discount_t``, adaptive lambda; length 1 along an axis broadcasts).
Skipped steps: ``valid`` (flags spanning the time axis, default all true) marks the
steps that exist; a skipped step is an identity step of the recursion (``a = 1, b =
0``): none of its data is read (NaN there reaches no output; ``discount`` and
``lam`` are still checked to lie in [0, 1] at every step), the carried state
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

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate as v
from ..backends import entry
from . import args as _rl_args
from . import plan as _returns


def _inputs(
    rewards: Any, others: dict[str, Any], axis: Any
) -> tuple[np.ndarray, dict[str, np.ndarray], int, tuple[int, ...], np.dtype]:
    r = v.as_numeric(rewards, "rewards")
    ax = v.scan_axis(axis, r.ndim, "rewards")
    arrays = {}
    for name, value in others.items():
        arr = v.as_numeric(value, name)
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
    return v.step_flags(value, shape, axis, name)


@entry("gae")
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
    identity step, its data is not read (its rates are still checked) and its
    ``advantages`` and ``returns`` repeat those of the next valid step (0 past the last
    one).  pandas/polars/xarray inputs
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
    if dim is not None:
        raise ValueError("dim= is for xarray inputs; use axis= for arrays")
    r, arrs, ax, _, result = _inputs(
        rewards, {"values": values, "next_values": next_values}, axis
    )
    term = _flags(terminated, r.shape, ax, "terminated")
    dn = term if done is None else _flags(done, r.shape, ax, "done")
    ok = _rl_args.valid(valid, r.shape, ax)
    g = _rl_args.rate(discount, "discount", r.shape, ax)
    lm = _rl_args.rate(lam, "lam", r.shape, ax)
    outs = None if out is None else _gae_out(out, r.shape, result)
    adv, ret = _returns.gae(
        r, arrs["values"], arrs["next_values"], term, dn, ok, g, lm, ax, result, outs
    )
    return adv, ret


def _gae_out(
    out: Any, shape: tuple[int, ...], result: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``out=(advantages, returns)``: two distinct writeable arrays of the shape."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError("out must be a tuple (advantages, returns) of two numpy arrays")
    adv, ret = (v.out_array(o, shape, result) for o in out)
    if np.may_share_memory(adv, ret):
        raise ValueError("out: the advantages and returns arrays must not overlap")
    return adv, ret


@entry("lambda_returns")
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


@entry("discounted_returns")
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
    if dim is not None:
        raise ValueError("dim= is for xarray inputs; use axis= for arrays")
    r, _, ax, _, result = _inputs(rewards, {}, axis)
    dn = None if done is None else _flags(done, r.shape, ax, "done")
    ok = _rl_args.valid(valid, r.shape, ax)
    g = _rl_args.rate(discount, "discount", r.shape, ax)
    boot = None
    if bootstrap is not None:
        boot = v.state(bootstrap, r.shape, ax, "bootstrap")
    out = _returns.discounted_returns(r, dn, ok, g, boot, ax, result)
    return out


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


@entry("vtrace")
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
    clips = (_rl_args.clip(clip_rho, "clip_rho"), _rl_args.clip(clip_c, "clip_c"),
             _rl_args.clip(clip_pg_rho, "clip_pg_rho"))
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"values": values, "next_values": next_values, "log_rhos": log_rhos},
        terminated, done, valid, discount, axis,
    )
    lm = _rl_args.rate(lam, "lam", r.shape, ax)
    vs, pg = _returns.vtrace(r, arrs["values"], arrs["next_values"], arrs["log_rhos"], term,
                             dn, ok, g, lm, clips, ax, result)
    return vs, pg


@entry("n_step_returns")
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
    product of discounts (:mod:`scanwise._kernels.rl.nstep`).  rlax's
    ``n_step_bootstrapped_returns`` is ``terminated=False`` with its ``discount_t``
    per step and ``next_values = v_t``.

    Example:
        >>> import numpy as np, scanwise
        >>> scanwise.n_step_returns(np.ones(4), np.full(4, 10.0), n=2,
        ...                         terminated=[0, 0, 0, 1], discount=0.5)
        array([4. , 4. , 1.5, 1. ])
    """
    steps = _rl_args.steps(n)
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"next_values": next_values}, terminated, done, valid, discount, axis
    )
    out = _returns.n_step_returns(r, arrs["next_values"], steps, term, dn, ok, g, ax, result)
    return out


@entry("off_policy_returns")
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
    r, arrs, ax, result, term, dn, ok, g = _prepare(
        rewards, {"next_values": next_values, "next_q_taken": next_q_taken, "traces": traces},
        terminated, done, valid, discount, axis,
    )
    out = _returns.off_policy_returns(r, arrs["next_values"], arrs["next_q_taken"],
                                      arrs["traces"], term, dn, ok, g, ax, result)
    return out


def _elementwise(fn: Callable[[np.ndarray], np.ndarray], value: Any, name: str) -> Any:
    """``fn`` of a NumPy array or tensor (tensor in, tensor out) or dask array."""
    arr = v.as_numeric(value, name)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    out = fn(arr.astype(np.result_type(arr, np.float16), copy=False))
    return np.asarray(out)


@entry("retrace_traces")
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


@entry("q_lambda_traces")
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


@entry("tree_backup_traces")
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
