"""Run a validated scan: cast operands, guard aliasing, lay out, call the kernels.

Called by the public API (:mod:`scanwise.scans`) once every argument is checked; this
module computes nothing itself.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import _layout

# dtypes the kernels are compiled for; everything else is computed in one of these
_COMPUTE = {
    "b": np.dtype(np.int64),
    "i": np.dtype(np.int64),
    "u": np.dtype(np.uint64),
}


def compute_dtype(result: np.dtype) -> np.dtype:
    """The kernel dtype used to produce ``result`` (``float16`` is computed in float32)."""
    if result.kind in _COMPUTE:
        return _COMPUTE[result.kind]
    if result == np.float16:
        return np.dtype(np.float32)
    if result in (np.float32, np.float64, np.complex64, np.complex128):
        return result
    raise TypeError(f"dtype {result} is not supported (use float32/float64 or complex)")


def _same_view(x: np.ndarray, y: np.ndarray) -> bool:
    return (
        x.shape == y.shape
        and x.strides == y.strides
        and x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
    )


def _unalias(arr: np.ndarray | None, target: np.ndarray, axis: int, elementwise: bool) -> Any:
    """Copy ``arr`` if writing ``target`` could clobber it before it is read.

    An operand read at exactly the position being written (in-place ``out=x``) is safe,
    because every kernel reads step t before writing it.
    """
    if arr is None or not np.may_share_memory(arr, target):
        return arr
    if elementwise and _same_view(arr, target):
        return arr
    return arr.copy()


def run(
    kind: str,
    *,
    b: np.ndarray,
    a: Any = None,
    init: np.ndarray | None = None,
    rval: np.ndarray | None = None,
    reset: np.ndarray | None = None,
    axis: int,
    reverse: bool,
    out: np.ndarray | None,
    result: np.dtype,
    include_initial: bool = False,
    identity: Any = 0,
) -> np.ndarray:
    """Scan ``b`` (and ``a``) along ``axis``; ``kind`` is ``"linear"`` or ``"logaddexp"``.

    ``b`` and ``reset`` are already broadcast to the scan shape, ``init`` (the state
    before the first step) and ``rval`` (the state a reset restarts from; None: the
    identity) have length 1 along ``axis``; ``a`` is a scalar or broadcast array;
    ``out`` is a checked user array or ``None``.
    """
    cdt = compute_dtype(result)
    if (type(b) is np.ndarray and b.ndim == 1 and b.dtype == cdt and kind == "linear"
            and out is None and init is None and reset is None and not include_initial
            and 0 < b.shape[0] < _layout.CHUNKED_MIN_T and b.dtype.kind == "f"
            and (a is None or not isinstance(a, np.ndarray) or a.ndim == 0)):
        return _one_series(b, a, reverse, cdt)
    shape = b.shape
    out_shape = list(shape)
    if include_initial:
        out_shape[axis] += 1
    out_shape_t = tuple(out_shape)
    if out is not None and out.dtype == cdt:
        target = out
    elif out is None and result == cdt:
        target = np.empty_like(b, dtype=cdt, shape=out_shape_t) if b.ndim else np.empty(())
    else:
        target = np.empty(out_shape_t, dtype=cdt)

    b = b.astype(cdt, copy=False)
    a_arr = None
    if a is not None:
        if isinstance(a, np.ndarray) and a.ndim:
            a_arr = a.astype(cdt, copy=False)
        else:
            a = cdt.type(np.asarray(a).astype(cdt))
    if init is not None:
        init = init.astype(cdt, copy=False)
    if rval is not None:
        rval = rval.astype(cdt, copy=False) if reset is not None else None

    if include_initial:
        lo, hi = (slice(0, -1), slice(-1, None)) if reverse else (slice(1, None), slice(0, 1))
        index: list[Any] = [slice(None)] * len(shape)
        index[axis] = hi
        target[tuple(index)] = identity if init is None else init
        index[axis] = lo
        view = target[tuple(index)]
    else:
        view = target

    if out is not None:
        b = _unalias(b, view, axis, elementwise=True)
        a_arr = _unalias(a_arr, view, axis, elementwise=True)
        init = _unalias(init, view, axis, elementwise=False)
        rval = _unalias(rval, view, axis, elementwise=False)
        reset = _unalias(reset, view, axis, elementwise=False)
    if init is not None:
        init = np.broadcast_to(init, shape)
    if rval is not None:
        rval = np.broadcast_to(rval, shape)

    if b.size:
        if reverse:
            view, b, a_arr, init, rval, reset = (
                _layout.flip(v, axis) for v in (view, b, a_arr, init, rval, reset)
            )
        for views in _layout.canonical(shape, axis, [view, b, a_arr, init, rval, reset]):
            _call(kind, views, a, reverse)

    if target is not out and out is not None:
        np.copyto(out, target, casting="unsafe")
        return out
    if target.dtype != result:
        return target.astype(result)
    return target


def _one_series(b: np.ndarray, a: Any, reverse: bool, cdt: np.dtype) -> np.ndarray:
    """One short float series with a constant ``a``, no state and no resets: the kernel
    :func:`_call` would pick, on the views the layout would give, without the general
    path's planning (a 1e3-step call: 31 us before, see docs/design.md)."""
    linear_scan_rows = _kernels()[1]
    n = b.shape[0]
    target = np.empty(n, dtype=cdt)
    a = cdt.type(1 if a is None else a)
    src, dst = (b[::-1], target[::-1]) if reverse else (b, target)
    linear_scan_rows(a, src.reshape(1, n, 1), None, None, None, dst.reshape(1, n, 1))
    return target


def _call(kind: str, views: list[Any], a: Any, reverse: bool) -> None:
    """Pick and run the kernel for one set of canonical views (already flipped if reverse)."""
    linear_scan, linear_scan_rows, CHUNKED_KERNELS, logaddexp_scan = _kernels()
    out3, b3, a3, init3, rval3, reset3 = views
    if a3 is not None:
        a = a3
    if kind == "logaddexp":
        logaddexp_scan(b3, init3, rval3, reset3, out3, _layout.lane_block(out3, threads(), 64))
    elif _layout.use_chunked(out3):
        n_chunks = -(-out3.shape[1] // _layout.CHUNK)
        # non-temporal stores: the kernel writes lane after lane
        stream = out3.shape[2] == 1 and _layout.streaming(out3)
        CHUNKED_KERNELS[stream](
            a,
            b3,
            init3,
            rval3,
            reset3,
            out3,
            _layout.CHUNK,
            np.empty(n_chunks, dtype=np.bool_),
            np.empty(n_chunks, dtype=out3.dtype),
            np.empty(n_chunks, dtype=out3.dtype),
        )
    elif _layout.time_major(out3):
        if reverse:  # undo the flip: the kernel walks backwards on positive strides
            out3, b3, init3, rval3, reset3 = (
                _layout.flip(v, 1) for v in (out3, b3, init3, rval3, reset3)
            )
            a = _layout.flip(a, 1) if isinstance(a, np.ndarray) else a
        # one block per core: the kernel prefetches the rows ahead in chunks, so half rows
        # stream as well as whole ones ([1e5, 1000] cumsum: two tasks 0.052-0.076 s, one
        # task 0.084-0.086 s; before the chunked prefetch one task won, 0.080-0.119 s)
        block = _layout.lane_block(out3, threads())
        linear_scan(a, b3, init3, rval3, reset3, out3, block, reverse, _layout.streaming(out3))
    else:
        linear_scan_rows(a, b3, init3, rval3, reset3, out3)


def _kernels() -> tuple[Any, ...]:
    """The scan kernels, imported on first use (numba stays out of ``import scanwise``)
    and kept: an import statement per call cost a small call microseconds."""
    global _KERNELS
    if _KERNELS is None:  # (threads racing here assign the same objects)
        from ._kernels.scans.linear import linear_scan, linear_scan_rows
        from ._kernels.scans.linear_chunked import CHUNKED_KERNELS
        from ._kernels.scans.logspace import logaddexp_scan

        _KERNELS = (linear_scan, linear_scan_rows, CHUNKED_KERNELS, logaddexp_scan)
    return _KERNELS


_KERNELS: tuple[Any, ...] | None = None


def threads() -> int:
    """numba's thread count (block sizes only: results never depend on it)."""
    # once the pool is up, read the (thread-local) count without numba's launch lock, a
    # process-wide semaphore that costs up to tens of microseconds per small call
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is None:
        import numba.np.ufunc.parallel as parallel
    getter = getattr(parallel, "_get_num_threads", None)
    if getattr(parallel, "_is_initialized", False) and getter is not None:
        n = int(getter())
        if n > 0:
            return n
    import numba

    return int(numba.get_num_threads())
