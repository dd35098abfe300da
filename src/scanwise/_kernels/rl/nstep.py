"""n-step bootstrapped returns in O(T) on ``(outer, T, inner)`` views, exact for
per-step discounts.

Step ``j`` is the affine map ``f_j(x) = r[j] + g[j] * x``; with ``c[j] = (1 -
terminated[j]) * next_values[j]`` (the zeroing is ``x - x``, so a NaN stays NaN, as in
the other estimators), the n-step return is::

    G[t] = f_t(f_{t+1}(... f_e(c[e])))     e = min(t + n - 1, first done >= t, last step)

A sliding window over compositions of affine maps, without inverses (a discount of 0
has none), in the two-stack manner of van Herk / Gil-Werman: cut time into blocks of
``n`` steps.  A window starting in block ``b`` ends in block ``b`` or ``b + 1``, so it
is a suffix composition of block ``b`` (built walking backwards: ``(A, B) <- f_t o (A,
B)``) applied to a prefix value of block ``b + 1`` (built walking forwards: ``Q[j] =
f_{s'} o ... o f_j (c[j])``, frozen after a done step).  A done step in block ``b``
turns the suffix into the plain return ``V <- f_t(V)`` from ``f_d(c[d])``.  Three map
compositions per step, every input read at most twice (the second time from cache).

``nstep_time_major`` vectorises across lanes (no ``valid``); ``nstep_rows`` walks one
series at a time, and with ``valid`` works on the series' valid steps only (gathered
first): a skipped step takes no place in the window and repeats the output of the next
valid step (0 past the last).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..access import at, lane
from ..jit import kernel
from ..stream import prefetch_row, store_row
from .returns import task_lanes


@njit(inline="always")
def _c(nv, term, o, t, i):  # pragma: no cover - numba
    x = nv[o, t, i]
    return x - x if term[o, t, i] else x


@njit(inline="always")
def _prefix_lanes(r, nv, term, done, g, o, t, i0, is_last, q_prev, q_row, pa, pb,
                  frozen):  # pragma: no cover - numba
    """One forward step of the next block's prefix values, branch-free (a frozen lane
    keeps its value; what it computes is dropped), so the lane loop vectorises."""
    for j in range(q_row.size):
        i = lane(r, i0, j)
        fr = frozen[j]
        npb = pb[j] + pa[j] * r[o, t, i]
        npa = pa[j] * at(g, o, t, i)
        nq = npb + npa * _c(nv, term, o, t, i)
        q_row[j] = q_prev[j] if fr else nq
        pb[j] = pb[j] if fr else npb
        pa[j] = pa[j] if fr else npa
        frozen[j] = fr or done[o, t, i] or is_last


@njit(inline="always")
def _suffix_lanes(r, nv, term, done, g, o, t, i0, is_last, q_row, big_a, big_b, val, cut,
                  row):  # pragma: no cover - numba
    """One backward step: the suffix map ``(A, B)`` of the block, or after a done step
    the plain return ``val``; the window's return into ``row``.  Branch-free."""
    for j in range(row.size):
        i = lane(r, i0, j)
        gt = at(g, o, t, i)
        rt = r[o, t, i]
        d = done[o, t, i] or is_last
        cj = cut[j]
        v_old = val[j]
        v_new = rt + gt * (_c(nv, term, o, t, i) if d else v_old)
        nc = cj or d
        vv = v_new if nc else v_old
        bb = big_b[j] if nc else rt + gt * big_b[j]
        ba = big_a[j] if nc else gt * big_a[j]
        val[j] = vv
        big_b[j] = bb
        big_a[j] = ba
        cut[j] = nc
        row[j] = vv if nc else bb + ba * q_row[j]


@kernel
def nstep_time_major(r, nv, term, done, g, n, out, block):  # pragma: no cover - numba
    """Lanes in blocks of a contiguous inner axis; ``n <= T``."""
    n_outer, n_t, n_inner = out.shape
    n_blocks = (n_inner + block - 1) // block
    last = n_t - 1
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        m = i1 - i0
        dt = out.dtype
        q = np.empty((n, m), dtype=dt)  # q[k]: the prefix value k steps past the block
        pa = np.empty(m, dtype=dt)
        pb = np.empty(m, dtype=dt)
        frozen = np.empty(m, dtype=np.bool_)
        big_a = np.empty(m, dtype=dt)
        big_b = np.empty(m, dtype=dt)
        val = np.zeros(m, dtype=dt)
        cut = np.empty(m, dtype=np.bool_)
        row = np.empty(m, dtype=dt)
        for s in range(((n_t - 1) // n) * n, -1, -n):
            be = min(s + n - 1, last)
            for j in range(m):
                q[0, j] = _c(nv, term, o, be, lane(r, i0, j))
            if be < last:
                for j in range(m):
                    pa[j] = 1.0
                    pb[j] = 0.0
                    frozen[j] = False
                for kk in range(1, n):
                    t = min(be + kk, last)
                    _prefix_lanes(r, nv, term, done, g, o, t, i0, t == last, q[kk - 1], q[kk],
                                  pa, pb, frozen)
            for j in range(m):
                big_a[j] = 1.0
                big_b[j] = 0.0
                cut[j] = False
            for t in range(be, s - 1, -1):
                ahead = max(t - n, 0)  # the next block's row: read next, walking backwards
                for x in (r, nv):
                    prefetch_row(x[o, ahead, i0:i1])
                prefetch_row(term[o, ahead, i0:i1])
                prefetch_row(done[o, ahead, i0:i1])
                _suffix_lanes(r, nv, term, done, g, o, t, i0, t == last, q[t - s], big_a,
                              big_b, val, cut, row)
                store_row(out[o, t, i0:i1], row, False)


@njit(inline="always")
def _at_step(valid, idx, p):  # pragma: no cover - numba
    return p if valid is None else idx[p]


@kernel
def nstep_rows(r, nv, term, done, valid, g, n, out):  # pragma: no cover - numba
    """One series per task (any layout); with ``valid`` over its valid steps only."""
    n_outer, n_t, n_inner = out.shape
    for k in prange(n_outer * n_inner):
        o = k // n_inner
        i = k - o * n_inner
        idx = np.empty(n_t if valid is not None else 0, dtype=np.int64)
        count = n_t
        if valid is not None:
            count = 0
            for t in range(n_t):
                if valid[o, t, i]:
                    idx[count] = t
                    count += 1
        if count == 0:
            for t in range(n_t):
                out[o, t, i] = 0.0
            continue
        w = min(n, count)
        q = np.empty(w, dtype=out.dtype)
        last = count - 1
        for s in range(((count - 1) // w) * w, -1, -w):
            be = min(s + w - 1, last)
            tb = _at_step(valid, idx, be)
            q[0] = _c(nv, term, o, tb, i)
            if be < last:
                pa = out.dtype.type(1.0)
                pb = out.dtype.type(0.0)
                frozen = False
                for kk in range(1, w):
                    p = min(be + kk, last)
                    if frozen:
                        q[kk] = q[kk - 1]
                    else:
                        t = _at_step(valid, idx, p)
                        pb = pb + pa * r[o, t, i]
                        pa = pa * at(g, o, t, i)
                        q[kk] = pb + pa * _c(nv, term, o, t, i)
                        frozen = done[o, t, i] or p == last
            big_a = out.dtype.type(1.0)
            big_b = out.dtype.type(0.0)
            val = big_b
            cut = False
            for p in range(be, s - 1, -1):
                t = _at_step(valid, idx, p)
                gt = at(g, o, t, i)
                rt = r[o, t, i]
                if done[o, t, i] or p == last:
                    cut = True
                    val = rt + gt * _c(nv, term, o, t, i)
                elif cut:
                    val = rt + gt * val
                else:
                    big_b = rt + gt * big_b
                    big_a = gt * big_a
                out[o, t, i] = val if cut else big_b + big_a * q[p - s]
        if valid is not None:  # skipped steps repeat the next valid step's return
            cur = out.dtype.type(0.0)
            for t in range(n_t - 1, -1, -1):
                if valid[o, t, i]:
                    cur = out[o, t, i]
                else:
                    out[o, t, i] = cur
