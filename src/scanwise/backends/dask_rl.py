"""The RL estimators on dask arrays: element-wise terms, then reverse scans.

GAE, the discounted returns, V-trace and the off-policy returns are reverse linear
recurrences ``h[t] = a[t] * h[t+1] + b[t]`` with their terms computed element-wise,
run by :func:`scanwise.backends.dask.scan` (O(chunks) tasks, the carry law across chunks).
A skipped step (``valid`` false) is ``a = 1, b = 0`` (``where``, so nothing of it is
read); the outputs it repeats are carried back by one more scan (``a = 1``, restarting
at every valid step).  ``done`` is a reset (never ``a = 0``: ``0 * nan`` is NaN).

The n-step returns carry a window, not a state: each chunk is computed by the NumPy
implementation on itself followed by the first ``n`` valid steps after it (a small
array, passed from chunk to chunk backwards along time), which is everything its
windows can reach (and the window of the first step after it, whose return the
chunk's trailing skipped steps repeat).

Results equal the NumPy ones up to the grouping of the carries (a few ulps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate as v
from .dask import _aligned, _da, is_dask, lazy, scan


def _floats(r: Any, arrays: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in arrays.items():
        if tuple(np.shape(value)) != r.shape:
            raise ValueError(
                f"{name} has shape {tuple(np.shape(value))}, expected the shape of rewards "
                f"{r.shape}"
            )
        out[name] = _aligned(value, r, name)
    return out


def _flag(value: Any, r: Any, ax: int, name: str) -> Any:
    """A step flag (bool, spanning the time axis: NumPy's rule) chunked like ``r``."""
    if value is None:
        return None
    if not is_dask(value):
        return _aligned(v.step_flags(value, r.shape, ax, name), r, name)
    if value.ndim != r.ndim or value.shape[ax] != r.shape[ax]:
        v.step_flags(np.zeros(value.shape, bool), r.shape, ax, name)  # raises, naming it
    return _aligned(value, r, name) != 0


def _rate(value: Any, name: str, r: Any, ax: int, dtype: np.dtype) -> Any:
    if is_dask(value):
        raise TypeError(f"{name} must be a number or a NumPy array with dask inputs")
    g = _args().rate(value, name, r.shape, ax)
    if isinstance(g, float):
        return g
    return _aligned(np.broadcast_to(g.astype(dtype), r.shape), r, name)


def _inputs(rewards: Any, floats: dict[str, Any], axis: Any) -> tuple[Any, dict[str, Any], int,
                                                                     np.dtype]:
    da = _da()
    r = rewards if is_dask(rewards) else da.from_array(v.as_numeric(rewards, "rewards"))
    ax = v.scan_axis(axis, r.ndim, "rewards")
    arrs = _floats(r, floats)
    result = np.result_type(r.dtype, *(a.dtype for a in arrs.values()), np.float16)
    if result.kind != "f":
        raise TypeError(f"rewards and values must be real, got dtype {result}")
    return r, arrs, ax, result


def _flags(terminated: Any, done: Any, valid: Any, r: Any, ax: int) -> tuple[Any, Any, Any]:
    term = _flag(terminated, r, ax, "terminated")
    dn = term if done is None else _flag(done, r, ax, "done")
    return term, dn, _flag(valid, r, ax, "valid")


def _boot(g: Any, x: Any, term: Any) -> Any:
    """``g * (1 - terminated) * x``: zero at a terminal step, NaN kept (as the kernels)."""
    return g * x * (1 - term)


def _rev(b: Any, a: Any, reset: Any, ax: int, dtype: np.dtype, start: Any = None) -> Any:
    a = a if is_dask(a) or np.ndim(a) else np.asarray(a, dtype=dtype)[()]
    return scan("linear", b.astype(dtype), a, axis=ax, init=None, start=start, reset=reset,
                reverse=True, dtype=dtype)


def _masked(ok: Any, b: Any, a: Any, reset: Any) -> tuple[Any, Any, Any]:
    """A skipped step as ``a = 1, b = 0`` whose flags are not read."""
    if ok is None:
        return b, a, reset
    da = _da()
    reset = None if reset is None else reset & ok
    return da.where(ok, b, 0), da.where(ok, a, 1), reset


def _carry_back(x: Any, ok: Any, ax: int, dtype: np.dtype) -> Any:
    """``x`` at valid steps; at a skipped step the next valid step's value (0 past the
    last)."""
    if ok is None:
        return x
    return _rev(_da().where(ok, x, 0), 1.0, ok, ax, dtype)


def _after(ok: Any, r: Any, ax: int) -> Any:
    """Is there a valid step after ``t``?"""
    da = _da()
    if ok is None:
        ones = da.ones_like(r, dtype=bool)
        return _shift(ones, ax, False)
    count = _rev(ok.astype(np.float64), 1.0, None, ax, np.dtype(np.float64))
    return count - ok > 0.5


def _shift(x: Any, ax: int, fill: Any) -> Any:
    """``x[t + 1]`` along ``ax``, ``fill`` after the last step; chunked like ``x``."""
    da = _da()
    index = [slice(None)] * x.ndim
    index[ax] = slice(1, None)
    tail = [slice(None)] * x.ndim
    tail[ax] = slice(0, 1)
    pad = da.full_like(x[tuple(tail)], fill)
    return da.concatenate([x[tuple(index)], pad], axis=ax).rechunk(x.chunks)


def gae(rewards: Any, values: Any, next_values: Any, terminated: Any, done: Any, valid: Any,
        discount: Any, lam: Any, axis: Any) -> tuple[Any, Any]:
    """:func:`scanwise.gae` on dask arrays."""
    r, arrs, ax, result = _inputs(rewards, {"values": values, "next_values": next_values}, axis)
    term, dn, ok = _flags(terminated, done, valid, r, ax)
    g = _rate(discount, "discount", r, ax, result)
    lm = _rate(lam, "lam", r, ax, result)
    delta = r + _boot(g, arrs["next_values"], term) - arrs["values"]
    b, a, reset = _masked(ok, delta, g * lm, dn)
    adv = _rev(b, a, reset, ax, result)
    ret = _carry_back((adv + arrs["values"]).astype(result), ok, ax, result)
    return adv, ret.astype(result)


def discounted_returns(rewards: Any, done: Any, valid: Any, discount: Any, bootstrap: Any,
                       axis: Any) -> Any:
    """:func:`scanwise.discounted_returns` on dask arrays (one reverse scan)."""
    r, _, ax, result = _inputs(rewards, {}, axis)
    dn = _flag(done, r, ax, "done")
    ok = _flag(valid, r, ax, "valid")
    g = _rate(discount, "discount", r, ax, result)
    start = None
    if bootstrap is not None:
        start = bootstrap if is_dask(bootstrap) else v.state(bootstrap, r.shape, ax, "bootstrap")
        if is_dask(start):
            start = _da().expand_dims(start, ax)
    # a done step restarts from 0 (a reset); the bootstrap is the state carried into the
    # last step only
    b, a, reset = _masked(ok, r, g, dn)
    return _rev(b, a, reset, ax, result, start)


def vtrace(rewards: Any, values: Any, next_values: Any, log_rhos: Any, terminated: Any,
           done: Any, valid: Any, discount: Any, lam: Any, clips: tuple[float, float, float],
           axis: Any) -> tuple[Any, Any]:
    """:func:`scanwise.vtrace` on dask arrays, computed in float64."""
    da = _da()
    r, arrs, ax, result = _inputs(
        rewards, {"values": values, "next_values": next_values, "log_rhos": log_rhos}, axis)
    term, dn, ok = _flags(terminated, done, valid, r, ax)
    f64 = np.dtype(np.float64)
    g = _rate(discount, "discount", r, ax, f64)
    lm = _rate(lam, "lam", r, ax, f64)
    cr, cc, cp = clips
    rv, val, nv = (x.astype(f64) for x in (r, arrs["values"], arrs["next_values"]))
    rho = da.exp(arrs["log_rhos"].astype(f64))
    delta = da.minimum(cr, rho) * (rv + _boot(g, nv, term) - val)
    b, a, reset = _masked(ok, delta, g * (lm * da.minimum(cc, rho)), dn)
    vs = _carry_back(val + _rev(b, a, reset, ax, f64), ok, ax, f64)
    cut = dn | ~_after(ok, r, ax)
    q = da.where(cut, nv, lm * _shift(vs, ax, 0.0) + (1 - lm) * nv)
    pg = da.minimum(cp, rho) * (rv + _boot(g, q, term) - val)
    if ok is not None:
        pg = da.where(ok, pg, 0.0)
    return vs.astype(result), pg.astype(result)


def off_policy_returns(rewards: Any, next_values: Any, next_q_taken: Any, traces: Any,
                       terminated: Any, done: Any, valid: Any, discount: Any,
                       axis: Any) -> Any:
    """:func:`scanwise.off_policy_returns` on dask arrays."""
    da = _da()
    r, arrs, ax, result = _inputs(
        rewards, {"next_values": next_values, "next_q_taken": next_q_taken, "traces": traces},
        axis)
    term, dn, ok = _flags(terminated, done, valid, r, ax)
    g = _rate(discount, "discount", r, ax, result)
    nv, nq, c = arrs["next_values"], arrs["next_q_taken"], arrs["traces"]
    # the trace term is dropped at a done step and the last valid one: a restart there
    cut = dn | ~_after(ok, r, ax)
    b = r + _boot(g, da.where(cut, nv, nv - c * nq), term)
    b, a, reset = _masked(ok, b, _boot(g, c, term), cut)
    return _rev(b, a, reset, ax, result)


# ---------------------------------------------------------------- n-step returns
def _window(fields: dict[str, np.ndarray], ax: int, k: int) -> dict[str, np.ndarray]:
    """The first ``k`` valid steps of ``fields`` along ``ax`` (per series), padded with
    skipped steps."""
    ok = fields["valid"]
    order = np.argsort(~ok, axis=ax, kind="stable")  # valid steps first, in time order
    if order.shape[ax] < k:
        raise AssertionError("window shorter than n")  # pragma: no cover - by design
    take = np.take(order, np.arange(k), axis=ax)
    return {name: np.take_along_axis(x, take, axis=ax) for name, x in fields.items()}


def _join(chunk: dict[str, np.ndarray], carry: dict[str, np.ndarray], ax: int
          ) -> dict[str, np.ndarray]:
    return {name: np.concatenate([chunk[name], carry[name]], axis=ax) for name in chunk}


def _fields(names: tuple[str, ...], *blocks: np.ndarray) -> dict[str, np.ndarray]:
    return dict(zip(names, blocks, strict=True))


def _carry_task(names: tuple[str, ...], ax: int, k: int, carry: dict[str, np.ndarray],
                *blocks: np.ndarray) -> dict[str, np.ndarray]:
    return _window(_join(_fields(names, *blocks), carry, ax), ax, k)


def _empty_carry(names: tuple[str, ...], ax: int, k: int, dtype: np.dtype,
                 *blocks: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for name, x in zip(names, blocks, strict=True):
        shape = list(x.shape)
        shape[ax] = k
        out[name] = np.zeros(shape, dtype=x.dtype)
    return out


def _nstep_task(names: tuple[str, ...], ax: int, n: int, result: np.dtype, g: Any,
                carry: dict[str, np.ndarray], *blocks: np.ndarray) -> np.ndarray:
    from ..rl import plan as _returns

    chunk = _fields(names, *blocks)
    length = chunk["rewards"].shape[ax]
    f = _join(chunk, carry, ax)
    ok = None if f["valid"].all() else f["valid"]
    rate = f["discount"] if "discount" in f else g
    out = _returns.n_step_returns(f["rewards"], f["next_values"], n, f["terminated"],
                                  f["done"], ok, rate, ax, result)
    index = [slice(None)] * out.ndim
    index[ax] = slice(0, length)
    return out[tuple(index)]


def n_step_returns(rewards: Any, next_values: Any, n: int, terminated: Any, done: Any,
                   valid: Any, discount: Any, axis: Any) -> Any:
    """:func:`scanwise.n_step_returns` on dask arrays (see the module docstring)."""
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    da = _da()
    r, arrs, ax, result = _inputs(rewards, {"next_values": next_values}, axis)
    term, dn, ok = _flags(terminated, done, valid, r, ax)
    ok = da.ones_like(r, dtype=bool) if ok is None else ok
    g = _rate(discount, "discount", r, ax, result)
    fields = {"rewards": r.astype(result), "next_values": arrs["next_values"].astype(result),
              "terminated": term, "done": dn, "valid": ok}
    if is_dask(g):
        fields["discount"] = g
    names = tuple(fields)
    arrays = list(fields.values())
    keys = [a.__dask_keys__() for a in arrays]
    token = tokenize("nstep", *arrays, n, ax, g if not is_dask(g) else None, str(result))
    c_name, o_name = f"scanwise-nstep-carry-{token}", f"scanwise-nstep-{token}"
    # n valid steps, not n - 1: a skipped step at the chunk's end repeats the return of
    # the first one after it, whose own window spans n
    k = n
    n_time = r.numblocks[ax]
    dsk: dict[Any, Any] = {}

    def block(idx: tuple[int, ...]) -> list[Any]:
        out = []
        for ks in keys:
            x = ks
            for i in idx:
                x = x[i]
            out.append(x)
        return out

    def carry_of(idx: tuple[int, ...]) -> Any:
        """The key of what block ``idx`` reads after itself: the first ``n - 1`` valid
        steps of the blocks after it (none after the last)."""
        kt = idx[ax]
        if kt == n_time - 1:
            return (c_name, *idx, "end")
        return (c_name, *idx[:ax], kt + 1, *idx[ax + 1 :])

    for idx in np.ndindex(*r.numblocks):
        if idx[ax] == n_time - 1:
            dsk[carry_of(idx)] = (_empty_carry, names, ax, k, result, *block(idx))
        if idx[ax] > 0:  # the window starting at this block, for the block before it
            dsk[(c_name, *idx)] = (_carry_task, names, ax, k, carry_of(idx), *block(idx))
        dsk[(o_name, *idx)] = (_nstep_task, names, ax, n, result,
                               None if is_dask(g) else g, carry_of(idx), *block(idx))
    graph = HighLevelGraph.from_collections(o_name, dsk, dependencies=arrays)
    return da.Array(graph, o_name, chunks=r.chunks, dtype=result,
                    meta=np.empty((0,) * r.ndim, dtype=result))


# ---------------------------------------------------------------- the adapter's entry
def _gae_graph(fn: Any, a: dict[str, Any]) -> Any:
    if a["out"] is not None:
        raise TypeError("out= takes NumPy arrays; it is not supported with dask inputs")
    return gae(a["rewards"], a["values"], a["next_values"], a["terminated"], a["done"],
               a["valid"], a["discount"], a["lam"], a["axis"])


def _discounted_graph(fn: Any, a: dict[str, Any]) -> Any:
    return discounted_returns(a["rewards"], a["done"], a["valid"], a["discount"],
                              a["bootstrap"], a["axis"])


def _vtrace_graph(fn: Any, a: dict[str, Any]) -> Any:
    clips = tuple(_args().clip(a[n], n) for n in ("clip_rho", "clip_c", "clip_pg_rho"))
    return vtrace(a["rewards"], a["values"], a["next_values"], a["log_rhos"],
                  a["terminated"], a["done"], a["valid"], a["discount"], a["lam"], clips,
                  a["axis"])


def _nstep_graph(fn: Any, a: dict[str, Any]) -> Any:
    return n_step_returns(a["rewards"], a["next_values"], _args().steps(a["n"]),
                          a["terminated"], a["done"], a["valid"], a["discount"], a["axis"])


def _off_policy_graph(fn: Any, a: dict[str, Any]) -> Any:
    return off_policy_returns(a["rewards"], a["next_values"], a["next_q_taken"], a["traces"],
                              a["terminated"], a["done"], a["valid"], a["discount"],
                              a["axis"])


def _elementwise_graph(fn: Any, a: dict[str, Any]) -> Any:
    """A trace helper block by block (its first argument is the array)."""
    first, *rest = a
    value = a[first]
    v.rate(a["lam"], "lam")  # checked now, not when a block computes
    return value.map_blocks(fn, **{k: a[k] for k in rest},
                            dtype=np.result_type(value.dtype, np.float16))


_GRAPHS: dict[str, Any] = {
    "gae": _gae_graph,
    "discounted_returns": _discounted_graph,
    "vtrace": _vtrace_graph,
    "n_step_returns": _nstep_graph,
    "off_policy_returns": _off_policy_graph,
    "retrace_traces": _elementwise_graph,
    "q_lambda_traces": _elementwise_graph,
    "tree_backup_traces": _elementwise_graph,
}


def adapt(fn: Any, op: str, **_options: Any) -> Any:
    """``fn`` building a Dask graph when an argument is a Dask array (the RL ops;
    ``lambda_returns`` calls ``gae``, which builds its graph)."""
    graph = _GRAPHS.get(op)
    return fn if graph is None else lazy(fn, graph)


def _args() -> Any:
    """:mod:`scanwise.rl.args` (the estimators' argument rules), imported on use: this
    adapter loads while :mod:`scanwise.rl` is being defined."""
    from ..rl import args

    return args
