"""Dask arrays: every scan chunked along time, lazily, with O(chunks) tasks.

Linear ops (``cumsum``, ``cumprod``, ``linear_recurrence``, ``discounted_cumsum``) and
``logcumsumexp`` use the carry law of :mod:`scanwise._carry`:

1. *summary* (parallel over chunks): the map a chunk applies to its incoming state,
   ``(r, A, B)``: ``h_out = B`` if the chunk restarts (a reset) else ``A * h_in + B``
   (log space: ``logaddexp(h_in, B)``);
2. *carry* (a chain of tiny tasks along time): ``h_in[k+1] = apply(summary[k], h_in[k])``
   (:func:`scanwise._carry.apply_summary`);
3. *scan* (parallel over chunks): each chunk is scanned again with its ``h_in`` folded
   into its first step (``b[0] <- a[0] * h_in + b[0]``), so every step after that is the
   very same ``a * h + b`` as the NumPy path.

Results equal the NumPy results up to the grouping of the carries (step 2 adds whole
chunks where NumPy adds one step at a time): a few ulps, relative ~1e-15 on well-scaled
data.  ``reverse`` flips the chunk order (``dask.array.flip`` is free).

The EWM family carries its exact state instead (pandas' normalised update is not an
affine map of the state): a chain of per-chunk tasks computes each chunk's final
:class:`~scanwise.EWMState` from the previous one, then every chunk is scanned in
parallel from its incoming state.  Bit-identical to the NumPy result.

``initial`` is the state entering the first chunk; a user ``reset_value`` (what resets
restart from) is folded into ``b`` at the reset steps, so the per-chunk scans never need
it (the restart value and the carried state are kept apart, as in the NumPy path).
Memory per task is a few chunks; the time axis is never rechunked.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import _validate as v


def _apply_summary(*args: Any) -> Any:
    """:func:`scanwise._carry.apply_summary`, imported when a task runs: ``_carry``
    imports numba, which ``import scanwise`` must not."""
    from .._carry import apply_summary

    return apply_summary(*args)


def _logaddexp(x: Any, y: Any) -> np.ndarray:
    """:func:`scanwise._carry.quiet_logaddexp`, imported when a task runs."""
    from .._carry import quiet_logaddexp

    return quiet_logaddexp(x, y)


def is_dask(obj: Any) -> bool:
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(obj, da.Array)


def any_dask(*objs: Any) -> bool:
    """Is any of ``objs`` a Dask array?  (Without dask imported: no, at once.)"""
    da = sys.modules.get("dask.array")
    return da is not None and any(isinstance(obj, da.Array) for obj in objs)


def _da() -> Any:
    import dask.array as da

    return da


def _aligned(value: Any, like: Any, name: str) -> Any:
    """``value`` broadcast to ``like``'s shape and chunked like it (None stays None)."""
    if value is None:
        return None
    da = _da()
    if not is_dask(value):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
        value = da.from_array(v.broadcast(arr, like.shape, name), chunks=like.chunks)
    else:
        try:
            value = da.broadcast_to(value, like.shape)
        except ValueError:
            raise ValueError(
                f"{name} with shape {value.shape} does not broadcast to the input shape "
                f"{like.shape}"
            ) from None
    return value.rechunk(like.chunks)


def _reduced_chunks(like: Any, axis: int) -> tuple[tuple[int, ...], ...]:
    return like.chunks[:axis] + ((1,) * len(like.chunks[axis]),) + like.chunks[axis + 1 :]


def _block_keys(arr: Any) -> Any:
    return None if arr is None else arr.__dask_keys__()


def _key(keys: Any, idx: tuple[int, ...]) -> Any:
    if keys is None:
        return None
    for i in idx:
        keys = keys[i]
    return keys


def _first(arr: np.ndarray, axis: int) -> tuple[Any, ...]:
    return (slice(None),) * axis + (slice(0, 1),)


# ---------------------------------------------------------------- per-chunk functions
def _fold(kind: str, a: Any, b: np.ndarray, reset: Any, init: Any, h_in: Any, axis: int,
          dtype: np.dtype) -> np.ndarray:
    """``b`` with the restart value folded in at resets and ``h_in`` at the first step."""
    b = np.array(b, dtype=dtype)  # a writeable copy
    a_full = None if np.ndim(a) == 0 else np.broadcast_to(a, b.shape)
    if reset is not None and init is not None and reset.any():
        init_b = np.broadcast_to(init, b.shape)
        if kind == "linear":
            a_b = a if a_full is None else a_full
            restarted = a_b * init_b + b
        else:
            restarted = _logaddexp(init_b, b)
        np.copyto(b, restarted, where=reset, casting="unsafe")
    if h_in is not None and b.shape[axis]:
        first = _first(b, axis)
        head = b[first]
        a0 = a if a_full is None else a_full[first]
        folded = a0 * h_in + head if kind == "linear" else _logaddexp(h_in, head)
        if reset is not None:
            folded = np.where(reset[first], head, folded)
        b[first] = folded
    return b


def _local(kind: str, a: Any, b: np.ndarray, reset: Any, axis: int,
           initial: Any = None) -> np.ndarray:
    """One chunk scanned by the NumPy implementation (``linear_recurrence`` /
    ``logcumsumexp`` of the chunk, from ``initial``), called below the public API."""
    from .. import _dispatch

    b = np.asarray(b)
    rst = None if reset is None else v.flags(reset, b.shape, "reset")
    init = None if initial is None else v.state(initial, b.shape, axis)
    if kind == "linear":
        a = np.broadcast_to(a, b.shape) if np.ndim(a) else a
        result = v.recurrence_dtype(a, b, *(() if init is None else (init,)))
        return _dispatch.run("linear", b=b, a=a, init=init, reset=rst, axis=axis,
                             reverse=False, out=None, result=result)
    result = b.dtype if b.dtype.kind == "f" else np.dtype(np.float64)
    return _dispatch.run("logaddexp", b=b, init=init, reset=rst, axis=axis, reverse=False,
                         out=None, result=result)


def _summary(kind: str, a: Any, b: np.ndarray, reset: Any, init: Any, axis: int,
             dtype: np.dtype) -> np.ndarray:
    """Stack ``(r, A, B)`` along ``axis`` (length 3).

    ``B`` is the chunk scanned from the zero state, last step only.  Without resets and
    with a constant ``a`` it is a reduction, not a scan: ``sum(b)`` for ``a == 1``,
    ``sum(a**(n-1-t) * b[t])`` otherwise (one read of the chunk, nothing written).
    """
    last = (slice(None),) * axis + (slice(-1, None),)
    n = b.shape[axis]
    if kind == "linear" and reset is None and np.ndim(a) == 0 and n:
        if a == 1:
            big = np.sum(b, axis=axis, keepdims=True, dtype=dtype)
        else:
            powers = np.asarray(a, dtype=dtype) ** np.arange(n - 1, -1, -1, dtype=dtype)
            big = np.expand_dims(np.tensordot(powers, np.moveaxis(b, axis, 0), axes=1), axis)
            big = big.astype(dtype, copy=False)
    else:
        h = _local(kind, a, _fold(kind, a, b, reset, init, None, axis, dtype), reset, axis)
        big = h[last]
    shape = big.shape
    r = np.zeros(shape, dtype=bool) if reset is None else reset.any(axis=axis, keepdims=True)
    if kind == "linear":
        a_full = np.broadcast_to(np.asarray(a, dtype=dtype), b.shape)
        prod = np.prod(a_full, axis=axis, keepdims=True, dtype=dtype)
    else:
        prod = np.zeros(shape, dtype=dtype)
    return np.concatenate([r.astype(dtype), prod, big], axis=axis)


def _scan_chunk(kind: str, a: Any, b: np.ndarray, reset: Any, init: Any, h_in: Any,
                axis: int, dtype: np.dtype) -> np.ndarray:
    if reset is None and h_in is not None and b.shape[axis] > 1:
        # no resets: the carried state is simply the scan's `initial` (no copy of b)
        b = b.astype(dtype, copy=False)
        h_in = np.asarray(h_in, dtype=dtype)
        return _local(kind, a, b, None, axis, h_in).astype(dtype, copy=False)
    b = _fold(kind, a, b, reset, init, h_in, axis, dtype)
    return _local(kind, a, b, reset, axis).astype(dtype, copy=False)


# ---------------------------------------------------------------- graphs
def scan(kind: str, b: Any, a: Any, *, axis: int, init: Any, start: Any, reset: Any,
         reverse: bool, dtype: np.dtype) -> Any:
    """Lazy scan of a dask ``b`` (``a`` a number or array); see the module docstring.

    ``init`` is the restart value at resets (None: the identity), ``start`` the state
    before the first step (None: nothing to fold), both of the reduced keep-dims shape.
    """
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    da = _da()
    b = b if is_dask(b) else da.from_array(np.asarray(b))
    a_arr = None if np.ndim(a) == 0 and not is_dask(a) else _aligned(a, b, "a")
    reset = _aligned(reset, b, "reset")
    if reverse:
        b, a_arr, reset = (None if x is None else da.flip(x, axis) for x in (b, a_arr, reset))
    red_chunks = _reduced_chunks(b, axis)
    reduced_shape = b.shape[:axis] + (1,) + b.shape[axis + 1 :]

    def reduced(value: Any) -> Any:
        if value is None:
            return None
        arr = value if is_dask(value) else np.broadcast_to(np.asarray(value), reduced_shape)
        one = tuple(c if i != axis else (1,) for i, c in enumerate(red_chunks))
        return _da().from_array(arr, chunks=one) if not is_dask(arr) else arr.rechunk(one)

    init_d, start_d = reduced(init), reduced(start)
    token = tokenize(kind, b, a_arr, a if a_arr is None else None, reset, init_d, start_d,
                     axis, str(dtype))
    s_name, h_name, o_name = (f"scanwise-{p}-{token}" for p in ("summary", "carry", "scan"))
    bk, ak, rk = _block_keys(b), _block_keys(a_arr), _block_keys(reset)
    ik, sk = _block_keys(init_d), _block_keys(start_d)
    a_const = a if a_arr is None else None
    dsk: dict[Any, Any] = {}
    for idx in np.ndindex(*b.numblocks):
        k = idx[axis]
        ridx = idx[:axis] + (0,) + idx[axis + 1 :]
        a_k = a_const if a_arr is None else _key(ak, idx)
        r_k = _key(rk, idx)
        i_k = _key(ik, ridx)
        dsk[(s_name, *idx)] = (_summary, kind, a_k, _key(bk, idx), r_k, i_k, axis, dtype)
        if k == 0:
            h_in = _key(sk, ridx)
        else:
            prev = idx[:axis] + (k - 1,) + idx[axis + 1 :]
            h_in = (h_name, *prev)
            dsk[h_in] = (_apply_summary, kind, (s_name, *prev), _key(sk, ridx) if k == 1 else
                         (h_name, *prev[:axis], k - 2, *prev[axis + 1 :]), axis)
        dsk[(o_name, *idx)] = (_scan_chunk, kind, a_k, _key(bk, idx), r_k, i_k, h_in, axis,
                               dtype)
    deps = [x for x in (b, a_arr, reset, init_d, start_d) if x is not None]
    graph = HighLevelGraph.from_collections(o_name, dsk, dependencies=deps)
    out = da.Array(graph, o_name, chunks=b.chunks, dtype=dtype,
                   meta=np.empty((0,) * b.ndim, dtype=dtype))
    return da.flip(out, axis) if reverse else out


# ---------------------------------------------------------------- public ops
def _no_out(out: Any) -> None:
    if out is not None:
        raise ValueError("out= is not supported for dask arrays (the result is lazy)")


def _initial(initial: Any, x: Any, axis: int, name: str = "initial") -> Any:
    """User ``initial`` (``reset_value``) in keep-dims form (NumPy checked now, dask kept
    lazy)."""
    if initial is None:
        return None
    if is_dask(initial):
        reduced = x.shape[:axis] + x.shape[axis + 1 :]
        if initial.ndim == x.ndim and initial.shape[axis] == 1:
            return initial
        return _da().expand_dims(_da().broadcast_to(initial, reduced), axis)
    return v.state(initial, x.shape, axis, name)


def _states(initial: Any, reset_value: Any, x: Any, axis: int) -> tuple[Any, Any, list[Any]]:
    """``initial`` and ``reset_value`` in keep-dims form, and zero-d probes of their
    dtypes (for the result's promotion)."""
    init = _initial(initial, x, axis)
    rval = _initial(reset_value, x, axis, "reset_value")
    return init, rval, v.promoters((initial, init), (reset_value, rval))


def _flags(reset: Any, x: Any, axis: int) -> Any:
    """``reset`` checked now as the NumPy path checks it: a NumPy flag in full, a dask
    flag by its shape and dtype (its values stay lazy)."""
    if reset is None:
        return None
    if is_dask(reset):
        v.spans_time(reset.shape, x.shape, axis, "reset")
        if reset.dtype.kind not in "biuf":
            raise TypeError(f"reset must be a boolean array, got dtype {reset.dtype}")
        return reset if reset.dtype.kind == "b" else reset != 0
    return v.step_flags(reset, x.shape, axis, "reset")


def _with_initial(out: Any, first: Any, axis: int, reverse: bool) -> Any:
    da = _da()
    shape = out.shape[:axis] + (1,) + out.shape[axis + 1 :]
    head = da.broadcast_to(da.asarray(first).astype(out.dtype), shape)
    return da.concatenate([out, head] if reverse else [head, out], axis=axis)


def accumulate(op: str, x: Any, axis: Any, dtype: Any, include_initial: bool, reverse: bool,
               reset: Any, initial: Any, reset_value: Any, out: Any) -> Any:
    """``cumsum``/``cumprod`` of a dask array (NumPy's dtype rules)."""
    _no_out(out)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
    ax = v.scan_axis(axis, x.ndim)
    ufunc = np.add if op == "cumsum" else np.multiply
    init, rval, probes = _states(initial, reset_value, x, ax)
    reset = _flags(reset, x, ax)
    result = v.accumulate_dtype(ufunc, x.dtype, dtype, probes)
    identity = 0 if op == "cumsum" else 1
    if op == "cumsum":
        a: Any = 1
        b = x.astype(result)
    else:
        a = x.astype(result)
        b = _da().full_like(x, -0.0 if result.kind in "fc" else 0, dtype=result)
        init = init if init is not None else np.ones((1,) * x.ndim, dtype=result)
        rval = rval if rval is not None else np.ones((1,) * x.ndim, dtype=result)
    res = scan("linear", b, a, axis=ax, init=rval, start=init, reset=reset, reverse=reverse,
               dtype=result)
    if include_initial:
        res = _with_initial(res, identity if init is None else init, ax, reverse)
    return res


def logcumsumexp(x: Any, axis: Any, reverse: bool, reset: Any, initial: Any,
                 reset_value: Any, out: Any) -> Any:
    _no_out(out)
    if x.dtype.kind not in "biuf":
        raise TypeError("logcumsumexp needs real input; x is complex")
    ax = v.scan_axis(axis, x.ndim)
    init, rval, probes = _states(initial, reset_value, x, ax)
    for name, value in (("initial", init), ("reset_value", rval)):
        if value is not None and value.dtype.kind == "c":
            raise TypeError(f"logcumsumexp needs real input; {name} is complex")
    result = np.result_type(x.dtype if x.dtype.kind == "f" else np.float64, *probes)
    return scan("logaddexp", x.astype(result), None, axis=ax, init=rval, start=init,
                reset=_flags(reset, x, ax), reverse=reverse, dtype=result)


def linear(a: Any, b: Any, axis: Any, initial: Any, reverse: bool, reset: Any,
           reset_value: Any, out: Any) -> Any:
    """``linear_recurrence``/``discounted_cumsum`` with a dask ``a`` and/or ``b``."""
    _no_out(out)
    da = _da()
    if not is_dask(b):
        b = da.from_array(v.as_numeric(b, "b"))
    if is_dask(a) or np.ndim(a):
        a_meta = a if is_dask(a) else v.as_numeric(a, "a")
        b = da.broadcast_to(b, v.common_shape(a_meta, b, ("a", "b")))
        a_probe: Any = np.zeros((), dtype=a_meta.dtype)
    else:
        a_probe = a
    ax = v.scan_axis(axis, b.ndim, "b")
    init, rval, probes = _states(initial, reset_value, b, ax)
    result = v.recurrence_dtype(a_probe, np.zeros((), dtype=b.dtype), *probes)
    if np.ndim(a) == 0 and not is_dask(a):
        a = np.asarray(a).astype(result)[()]
    return scan("linear", b.astype(result), a, axis=ax, init=rval, start=init,
                reset=_flags(reset, b, ax), reverse=reverse, dtype=result)


def _ewm_chunk(fn: Any, want: str, x: np.ndarray, y: Any, reset: Any, times: Any, state: Any,
               kw: dict[str, Any]) -> Any:
    args = (x,) if y is None else (x, y)
    res, st = fn(*args, reset=reset, times=times, state=state, return_state=True, **kw)
    return st if want == "state" else res


def _state_block(state: Any, x: Any, axis: int, idx: tuple[int, ...]) -> Any:
    """The part of a user's EWMState that belongs to one block of the non-time axes."""
    if state is None:
        return None
    from ..ewm.state import EWMState

    index: list[Any] = [slice(None)]
    for d, (chunks, i) in enumerate(zip(x.chunks, idx, strict=True)):
        if d == axis:
            continue
        lo = sum(chunks[:i])
        index.append(slice(lo, lo + chunks[i]))
    return EWMState(state.kind, state.data[tuple(index)], state.last_time, state.config,
                    state.given)


def ewm(fn: Any, kind: str, x: Any, y: Any, kw: dict[str, Any]) -> Any:
    """The EWM family on dask arrays: an exact state chain, then parallel chunk scans."""
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    from ..ewm.params import as_times

    da = _da()
    if kw.get("out") is not None:
        raise ValueError("out= is not supported for dask arrays (the result is lazy)")
    if kw.get("return_state"):
        raise ValueError("return_state=True is not supported for dask arrays; chunk along "
                         "time with dask instead of streaming")
    x = x if is_dask(x) else da.from_array(v.as_numeric(x, "x"))
    if y is not None:
        y = y if is_dask(y) else da.from_array(v.as_numeric(y, "y"))
        x = da.broadcast_to(x, v.common_shape(x, y, ("x", "y")))
        y = _aligned(y, x, "y")
    ax = v.scan_axis(kw["axis"], x.ndim, "x")
    n_t = x.shape[ax]
    times = kw["times"]
    if times is not None:
        values, unit = as_times(times, n_t)
        times = values if unit == "numeric" else values.view(f"M8[{unit}]")
    reset = _aligned(_flags(kw["reset"], x, ax), x, "reset")
    rest = {k: val for k, val in kw.items()
            if k not in ("x", "y", "axis", "times", "reset", "state", "return_state", "out")}
    # validate every other keyword now, on an empty NumPy slice: an empty scan runs no
    # kernel, so building the graph never imports numba on the client
    probe = np.zeros(tuple(0 if d == ax else 1 for d in range(x.ndim)), dtype=x.dtype)
    probed, probe_state = fn(*((probe,) if y is None else (probe, probe)), axis=ax,
                             times=None if times is None else times[:0], return_state=True,
                             **rest)
    state = kw["state"]
    if state is not None:
        from ..ewm.state import check

        reduced = x.shape[:ax] + x.shape[ax + 1 :]
        check(state, probe_state.kind, reduced, probe_state.config, probe_state.given)
    result = probed.dtype
    rest["axis"] = ax

    token = tokenize(kind, x, y, reset, times, state, sorted(rest.items(), key=str))
    st_name, o_name = f"scanwise-ewmstate-{token}", f"scanwise-ewm-{token}"
    xk, yk, rk = _block_keys(x), _block_keys(y), _block_keys(reset)
    offsets = np.cumsum((0, *x.chunks[ax]))
    dsk: dict[Any, Any] = {}
    for idx in np.ndindex(*x.numblocks):
        k = idx[ax]
        t_k = None if times is None else times[offsets[k] : offsets[k + 1]]
        if k == 0:
            st_in: Any = _state_block(state, x, ax, idx)
        else:
            st_in = (st_name, *idx[:ax], k - 1, *idx[ax + 1 :])
        chunk = (fn, _key(xk, idx), _key(yk, idx), _key(rk, idx), t_k, st_in, rest)
        dsk[(o_name, *idx)] = (_ewm_chunk, fn, "result", *chunk[1:])
        if k + 1 < x.numblocks[ax]:
            dsk[(st_name, *idx)] = (_ewm_chunk, fn, "state", *chunk[1:])
    deps = [a for a in (x, y, reset) if a is not None]
    graph = HighLevelGraph.from_collections(o_name, dsk, dependencies=deps)
    return da.Array(graph, o_name, chunks=x.chunks, dtype=result,
                    meta=np.empty((0,) * x.ndim, dtype=result))





# ---------------------------------------------------------------- the adapter's entry
def _as_dask(x: Any, name: str = "x") -> Any:
    return x if is_dask(x) else _da().from_array(v.as_numeric(x, name))


def _accumulate_graph(kind: str) -> Any:
    def graph(fn: Any, a: dict[str, Any]) -> Any:
        return accumulate(kind, _as_dask(a["x"]), a["axis"], a["dtype"],
                          v.flag(a["include_initial"], "include_initial"),
                          v.flag(a["reverse"], "reverse"), a["reset"], a["initial"],
                          a["reset_value"], a["out"])

    return graph


def _logcumsumexp_graph(fn: Any, a: dict[str, Any]) -> Any:
    return logcumsumexp(_as_dask(a["x"]), a["axis"], v.flag(a["reverse"], "reverse"),
                        a["reset"], a["initial"], a["reset_value"], a["out"])


def _linear_graph(fn: Any, a: dict[str, Any]) -> Any:
    return linear(a["a"], a["b"], a["axis"], a["initial"], v.flag(a["reverse"], "reverse"),
                  a["reset"], a["reset_value"], a["out"])


def _discounted_graph(fn: Any, a: dict[str, Any]) -> Any:
    return linear(v.factor(a["discount"], "discount"), _as_dask(a["x"]), a["axis"],
                  a["initial"], v.flag(a["reverse"], "reverse"), a["reset"],
                  a["reset_value"], a["out"])


def _ewm_graph(kind: str) -> Any:
    def graph(fn: Any, a: dict[str, Any]) -> Any:
        return ewm(fn, kind, a["x"], a.get("y"), a)

    return graph


_GRAPHS: dict[str, Any] = {
    "cumsum": _accumulate_graph("cumsum"),
    "cumprod": _accumulate_graph("cumprod"),
    "logcumsumexp": _logcumsumexp_graph,
    "linear_recurrence": _linear_graph,
    "discounted_cumsum": _discounted_graph,
    **{f"ewm_{k}": _ewm_graph(k) for k in ("mean", "var", "std", "cov", "corr")},
}


def adapt(fn: Any, op: str, **_options: Any) -> Any:
    """``fn`` building a Dask graph when an argument is a Dask array (the ops of
    :data:`_GRAPHS`; the RL estimators' graphs are in :mod:`.dask_rl`)."""
    graph = _GRAPHS.get(op)
    return fn if graph is None else lazy(fn, graph)


def lazy(fn: Any, graph: Any) -> Any:
    """``fn``, or ``graph(fn, arguments)`` when any argument is a Dask array
    (``arguments``: every parameter by name, defaults filled in)."""
    import functools
    import inspect

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if any_dask(*args, *kwargs.values()):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return graph(fn, bound.arguments)
        return fn(*args, **kwargs)

    return wrapper
