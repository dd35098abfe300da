"""Run a validated EWM scan: cast, guard aliasing, lay out, carry the state, call a kernel.

Called by :mod:`scanwise.ewm` once every argument is checked; computes nothing itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _layout
from .._dispatch import _unalias, threads

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_F64 = _KERNEL_DTYPES[1]  # (native float64 arrays carry this very object: a fast test)


def _readonly(arr: np.ndarray | None) -> np.ndarray | None:
    """A read-only view: one compiled signature serves writeable and read-only inputs."""
    if arr is None or not arr.flags.writeable:
        return arr
    view = arr.view()
    view.flags.writeable = False
    return view


def _kernel_input(arr: np.ndarray | None) -> np.ndarray | None:
    """float32/float64 as they are, anything else as float64; read-only."""
    if arr is not None and arr.dtype is not _F64 and arr.dtype not in _KERNEL_DTYPES:
        arr = arr.astype(np.float64)
    return _readonly(arr)


def run(
    kind: str,
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    axis: int,
    factor: np.ndarray,
    reset: np.ndarray | None,
    state: np.ndarray,
    out: np.ndarray | None,
    result: np.dtype,
    options: dict[str, Any],
    count: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scan ``x`` (and ``y``) along ``axis``; returns ``(result array, new state data)``.

    ``kind`` is ``"mean"``, ``"cov"`` (``y`` None: variance) or ``"corr"``.  ``state`` is
    ``(F, *shape without axis)`` float64 and is not modified.  ``options`` are the
    kernel's scalar arguments (alpha, adjust, ignore_na, irregular, minp[, bias, root]).
    ``count=False`` lets the kernels skip the observation count (only
    when ``minp <= 1``) and says the caller discards the new state: it is not unpacked
    (``None``).
    """
    shape = x.shape
    factor = _readonly(factor)
    if out is not None and out.dtype in _KERNEL_DTYPES:
        target = out
    else:
        target = np.empty_like(x, dtype=result)
    if target is out:  # (a new target shares memory with nothing)
        x = _unalias(x, target, axis, elementwise=True)
        y = _unalias(y, target, axis, elementwise=True)
        reset = _unalias(reset, target, axis, elementwise=False)
    x, y, reset = _kernel_input(x), _kernel_input(y), _readonly(reset)

    counted = count or options["minp"] > 1
    if not target.size:  # nothing to scan: the state stays as it is
        return _finish(target, out), state.copy()
    p = _layout.plan(shape, axis, [target, x, y, reset])
    out_v = _layout.view(target, p)
    x_v, y_v, reset_v = (None if a is None else _layout.view(a, p, False) for a in (x, y, reset))
    packed = _layout.pack_lanes(state, p)  # (*lead, F, outer, inner), a copy
    if not p.lead_shape:  # the usual case
        _scan(kind, x_v, y_v, reset_v, packed, out_v, factor, options, counted)
    for idx in np.ndindex(*p.lead_shape) if p.lead_shape else ():
        out3, x3, y3, reset3 = (None if v is None else v[idx] for v in (out_v, x_v, y_v, reset_v))
        _scan(kind, x3, y3, reset3, packed[idx], out3, factor, options, counted)
    return _finish(target, out), _layout.unpack_lanes(packed, p, state) if count else None


def _finish(target: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if target is not out and out is not None:
        np.copyto(out, target, casting="unsafe")
        return out
    return target


def _scan(
    kind: str,
    x3: np.ndarray,
    y3: np.ndarray | None,
    reset3: np.ndarray | None,
    packed: np.ndarray,
    out3: np.ndarray,
    factor: np.ndarray,
    options: dict[str, Any],
    counted: bool,
) -> None:
    """One set of canonical views; ``packed`` ``(F, outer, inner)`` is updated in place."""
    kernels = _kernels()
    # the mean's row loop over strided rows beats staging them (a column slice: 35 ms
    # against 48, [1e5, 200]); the moments' does not (74 against 59)
    staged = _layout.staged(out3, x3, y3, reset3) and not (
        kind == "mean" and _layout.time_major(out3))
    if staged:
        one = False
    elif kind == "mean":  # its m == 1 path; its vectorised lane loop is cheap for 2 lanes
        one = not _layout.time_major(out3)
    else:
        one = _layout.one_lane_tasks(out3)
    if staged:
        block = _layout.staged_block(out3, threads())
    else:
        block = 1 if one else _layout.lane_block(out3, threads())
    mode = 2 if staged else int(one)
    if not one and factor.strides[0] == 0 and factor.shape[0] > 1:
        # the vectorised lane loops are typed 'C' (LLVM vectorises them): a constant
        # factor as a contiguous array, a small one next to [T, lanes] of data
        factor = _readonly(np.full(factor.shape[0], factor[0]))
    if kind == "mean" and _chunk_parallel(out3, options):
        _mean_chunked(x3, factor, reset3, packed, out3, options)
    elif kind == "mean":
        stream = not staged and block > 1 and _layout.streaming(out3)
        fast = kernels.mean_fast_path(
            options["adjust"], options["ignore_na"], options["irregular"], counted
        )
        kernels.MEAN_KERNELS[staged][fast](
            x3, factor, reset3, packed, out3, block, *options.values(), stream
        )
    elif kind == "cov":
        stream = not staged and block > 1 and _layout.streaming(out3)  # rows, as the mean
        fast = kernels.cov_fast_path(
            options["adjust"], options["ignore_na"], options["irregular"],
            options["bias"], options["root"], counted,
        )
        kernels.COV_KERNELS[mode][fast](
            x3, y3, factor, reset3, packed, out3, block, *options.values(), stream
        )
    else:
        stream = not staged and block > 1 and _layout.streaming(out3)
        fast = kernels.corr_fast_path(
            options["adjust"], options["ignore_na"], options["irregular"], counted
        )
        kernels.CORR_KERNELS[mode][fast](
            x3, y3, factor, reset3, packed, out3, block, *options.values(), stream
        )


def _kernels() -> Any:
    """:mod:`scanwise._kernels.ewm`, imported on first use (numba stays out of ``import
    scanwise``); a module global after that, not an import statement per call."""
    global _KERNELS
    if _KERNELS is None:
        from .._kernels import ewm

        _KERNELS = ewm
    return _KERNELS


_KERNELS: Any = None


def _chunk_parallel(out3: np.ndarray, options: dict[str, Any]) -> bool:
    """A few long series of an ``adjust=True`` mean: the num/den chunk-parallel kernel."""
    return bool(options["adjust"]) and not options["irregular"] and _layout.use_chunked(out3)


def _mean_chunked(
    x3: np.ndarray,
    factor: np.ndarray,
    reset3: np.ndarray | None,
    packed: np.ndarray,
    out3: np.ndarray,
    options: dict[str, Any],
) -> None:
    """Run :func:`ewm_mean_chunked` series by series (at most ``CHUNKED_MAX_SERIES``)."""
    from .._kernels.ewm import ewm_mean_chunked

    n_outer, n_t, n_inner = out3.shape
    chunk = max(1, _layout.CHUNK // 4)  # a task walks four chunks interleaved
    scratch = np.empty((-(-n_t // chunk), 5))
    for o in range(n_outer):
        for i in range(n_inner):
            st = packed[:, o, i].copy()
            ewm_mean_chunked(
                x3[o, :, i], factor, None if reset3 is None else reset3[o, :, i], st,
                out3[o, :, i], chunk, bool(options["ignore_na"]),
                int(options["minp"]), scratch,
            )
            packed[:, o, i] = st
