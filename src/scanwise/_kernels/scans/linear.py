"""Kernels for the first-order linear recurrence ``h[t] = a[t] * h[t-1] + b[t]``.

All arrays are 3-D canonical views ``(outer, T, inner)`` (see :mod:`scanwise._layout`);
``a`` may also be a scalar.  Start and reset rule, shared by every kernel here:

* at ``t == 0`` the state is ``init[o, t, i]`` (the carried state; ``init`` broadcasts
  along T with stride 0), so ``h[0] = a[0] * init + b[0]``;
* wherever ``reset[o, t, i]`` is true (``t == 0`` included: a reset wins over ``init``)
  the state is replaced by the restart value ``rval[o, t, i]`` instead:
  ``h[t] = a[t] * rval + b[t]``;
* when ``init`` (``rval``) is None that state is the identity 0 and ``h[t] = b[t]``
  exactly (``a[t]`` is not read, so ``-0.0`` survives and an infinite ``a`` does not
  make NaN).

Keeping the carried state and the restart value apart is what makes streaming exact:
the last slice of one call passed as ``init`` of the next continues the scan, resets
included.

Both kernels here walk every series one step at a time, so they are bit-identical to a
plain loop (``a = 1`` reproduces ``numpy.cumsum``) and to each other.  The
reduce-then-scan for a few long series is in :mod:`scanwise._kernels.scans.linear_chunked`.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from ..access import at, lane
from ..jit import kernel
from ..stream import PREFETCH_LANES, PREFETCH_ROWS, drain, prefetch_row, stream_row


@njit(inline="always")
def _restart(a, b, state, o, t, i):  # pragma: no cover - numba
    """Step ``t`` from a replaced state: ``state`` (stride 0 along T) or the identity 0."""
    if state is None:
        return b[o, t, i]
    return at(a, o, t, i) * state[o, t, i] + b[o, t, i]


@njit(inline="always")
def _first(a, b, init, rval, reset, o, t, i):  # pragma: no cover - numba
    """The first step ``t`` of a series: from ``init``, or from ``rval`` if it resets."""
    if reset is not None and reset[o, t, i]:
        return _restart(a, b, rval, o, t, i)
    return _restart(a, b, init, o, t, i)


@njit(inline="always")
def _next(a, b, rval, reset, o, t, i, h):  # pragma: no cover - numba
    """``h[t]`` from ``h = h[t-1]``, applying the reset rule."""
    if reset is not None and reset[o, t, i]:
        return _restart(a, b, rval, o, t, i)
    return at(a, o, t, i) * h + b[o, t, i]


@njit(inline="always")
def _lanes(a, b, rval, reset, o, t, i0, h, dst):  # pragma: no cover - numba
    """Step ``t`` of lanes ``i0 .. i0 + len(h)`` into the row slice ``dst``; ``h`` holds
    their states (read, updated)."""
    for j in range(h.size):
        v = _next(a, b, rval, reset, o, t, lane(b, i0, j), h[j])
        h[j] = v
        dst[j] = v


@kernel
def linear_scan(a, b, init, rval, reset, out, block, reverse, stream):  # pragma: no cover - numba
    """Time-major scan for a contiguous inner axis: tasks are outer x blocks of lanes.

    The inner loop runs across ``block`` neighbouring lanes, so it vectorises; their
    states live in a small local array, so the output is only written, never read back
    (``stream``: written past the cache, see :mod:`scanwise._kernels.stream`).  Each lane
    is computed in time order by one thread: the result does not depend on ``block``.
    ``reverse`` walks t from the end here (instead of a negative-stride view) so that
    C-contiguous operands keep their vectorisable 'C' typing.
    """
    n_outer, n_t, n_inner = out.shape
    if n_t == 0 or n_inner == 0:
        return
    n_blocks = (n_inner + block - 1) // block
    t0 = n_t - 1 if reverse else 0
    step = -1 if reverse else 1
    for k in prange(n_outer * n_blocks):
        o = k // n_blocks
        i0 = (k - o * n_blocks) * block
        h = np.empty(min(n_inner, i0 + block) - i0, dtype=out.dtype)
        for j in range(h.size):
            h[j] = _first(a, b, init, rval, reset, o, t0, lane(b, i0, j))
            out[o, t0, lane(b, i0, j)] = h[j]
        m = h.size
        row = np.empty(m, dtype=out.dtype)
        for s in range(1, n_t):
            t = t0 + s * step
            ahead = min(max(t + PREFETCH_ROWS * step, 0), n_t - 1)
            for c0 in range(0, m, PREFETCH_LANES):
                c1 = min(m, c0 + PREFETCH_LANES)
                prefetch_row(b[o, ahead, i0 + c0 : i0 + c1])
                dst = row[c0:c1] if stream else out[o, t, i0 + c0 : i0 + c1]
                _lanes(a, b, rval, reset, o, t, i0 + c0, h[c0:c1], dst)
            if stream:
                stream_row(out[o, t, i0 : i0 + m], row)
        drain(stream)


# scalar code (four dependency chains, no lane loop): typed for the strided layout only,
# so C-contiguous (1-D, time-fast) and strided inputs share one compilation per signature,
# at the same speed (docs/design.md, "Measurements behind kernel choices")
@functools.partial(kernel, layout="A")
def linear_scan_rows(a, b, init, rval, reset, out):  # pragma: no cover - numba
    """Row-wise scan for series whose time axis is the fast one (strided inner axis).

    Four series share one time loop with their states in registers, so four dependency
    chains are in flight; tasks are groups of four series (flattened outer x inner).
    """
    n_outer, n_t, n_inner = out.shape
    n_rows = n_outer * n_inner
    if n_t == 0 or n_rows == 0:
        return
    for g in prange((n_rows + 3) // 4):
        r = 4 * g
        if r + 4 <= n_rows:
            o0, i0 = divmod(r, n_inner)
            o1, i1 = divmod(r + 1, n_inner)
            o2, i2 = divmod(r + 2, n_inner)
            o3, i3 = divmod(r + 3, n_inner)
            h0 = _first(a, b, init, rval, reset, o0, 0, i0)
            h1 = _first(a, b, init, rval, reset, o1, 0, i1)
            h2 = _first(a, b, init, rval, reset, o2, 0, i2)
            h3 = _first(a, b, init, rval, reset, o3, 0, i3)
            out[o0, 0, i0] = h0
            out[o1, 0, i1] = h1
            out[o2, 0, i2] = h2
            out[o3, 0, i3] = h3
            for t in range(1, n_t):
                h0 = _next(a, b, rval, reset, o0, t, i0, h0)
                h1 = _next(a, b, rval, reset, o1, t, i1, h1)
                h2 = _next(a, b, rval, reset, o2, t, i2, h2)
                h3 = _next(a, b, rval, reset, o3, t, i3, h3)
                out[o0, t, i0] = h0
                out[o1, t, i1] = h1
                out[o2, t, i2] = h2
                out[o3, t, i3] = h3
        else:
            for rr in range(r, n_rows):
                o, i = divmod(rr, n_inner)
                h = _first(a, b, init, rval, reset, o, 0, i)
                out[o, 0, i] = h
                for t in range(1, n_t):
                    h = _next(a, b, rval, reset, o, t, i, h)
                    out[o, t, i] = h
