"""Fused reverse kernels for the RL estimators on ``(outer, T, inner)`` views.

Each is one reverse pass that reads every input once and writes its outputs; the state
of a lane (the carried advantage, V-trace correction or return of the next valid step)
lives in a small local array or a register.  Rates (``g`` the discount, ``gl`` its
product with lambda, ``lam``) are numbers or broadcast views (per env or per step);
``valid`` is None or a flag view.

GAE::

    delta[t] = rewards[t] + discount * next_values[t] * (1 - terminated[t]) - values[t]
    A[t]     = delta[t] + discount * lam * A[t + 1]   (A[t] = delta[t] where done[t]
                                                        or no valid step follows)
    adv[t] = A[t];  ret[t] = A[t] + values[t]

V-trace (Espeholt et al. 2018, eq. 1, with rlax's lambda mixing in the policy-gradient
target) and the general off-policy return are spelled out at their kernels.

Skipped steps (``valid`` false) are identity steps: the lane loops are branch-free, so a
skipped step's values are read and what they give is dropped by a select (a NaN there
reaches no output); the state passes through unchanged and their outputs repeat the
carried ones (0 past the last valid step; V-trace's ``pg`` is 0 there).  Every estimator
computes and carries its state in the outputs' dtype (float32 for float32 inputs).

As in TorchRL and SB3 the bootstrap term is multiplied by zero (not dropped) at a
terminal step, so a NaN ``next_values`` there still propagates; ``x - x`` is that
product in the input dtype.  A ``done`` step cuts the trace (the carried state is not
read, so the next episode's values never leak in).  Every lane is computed in time
order by one thread: results do not depend on the block or the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..access import at, lane
from ..jit import kernel
from ..stream import PREFETCH_LANES, PREFETCH_ROWS, drain, prefetch_row, store_row
from ..vecmath import exp_any


@njit(inline="always")
def _delta(r, v, nv, term, g, o, t, i):  # pragma: no cover - numba
    boot = at(g, o, t, i) * nv[o, t, i]
    boot = boot - boot if term[o, t, i] else boot
    return r[o, t, i] + boot - v[o, t, i]


@njit(inline="always")
def task_lanes(k, n_blocks, block, n_inner):  # pragma: no cover - numba
    """Task ``k`` of outer x blocks of lanes: its outer index and lanes ``i0:i1``."""
    o = k // n_blocks
    i0 = (k - o * n_blocks) * block
    return o, i0, min(n_inner, i0 + block)


@njit(inline="always")
def _skipped(valid, o, t, i):  # pragma: no cover - numba
    return valid is not None and not valid[o, t, i]


@njit(inline="always")
def _lanes(r, v, nv, term, done, valid, g, gl, o, t, i0, h, hr, adv_row, ret_row,
           last):  # pragma: no cover - numba
    """Step ``t`` of lanes ``i0 ..``: ``h`` holds ``A`` of the next valid step (0 past
    the end; unused when ``last``), ``hr`` its return (with ``valid`` only).  Branch-free
    (a skipped step computes and then selects the carried values), so it vectorises."""
    for j in range(h.size):
        i = lane(r, i0, j)
        vt = v[o, t, i]
        d = _delta(r, v, nv, term, g, o, t, i)
        a = d if last or done[o, t, i] else at(gl, o, t, i) * h[j] + d
        if valid is None:
            h[j] = a
            adv_row[j] = a
            ret_row[j] = a + vt
        else:
            keep = valid[o, t, i]
            a = a if keep else h[j]
            rt = a + vt if keep else hr[j]
            h[j] = a
            hr[j] = rt
            adv_row[j] = a
            ret_row[j] = rt


@njit(inline="always")
def _ask(x, o, ahead, a0, a1):  # pragma: no cover - numba
    """Prefetch lanes ``a0:a1`` of row ``ahead`` of the optional flag or value ``x``."""
    if x is not None:
        prefetch_row(x[o, ahead, a0:a1])


@njit(inline="always")
def _ask_all(o, ahead, a0, a1, x1, x2, x3, x4, term, done, valid):  # pragma: no cover
    """Prefetch lanes ``a0:a1`` of row ``ahead`` of every operand a kernel reads (``x4``
    and ``valid`` may be None)."""
    for x in (x1, x2, x3):
        prefetch_row(x[o, ahead, a0:a1])
    _ask(x4, o, ahead, a0, a1)
    _ask(term, o, ahead, a0, a1)
    _ask(done, o, ahead, a0, a1)
    _ask(valid, o, ahead, a0, a1)


@kernel
def gae_time_major(r, v, nv, term, done, valid, g, gl, adv, ret, block,
                   stream):  # pragma: no cover - numba
    """Contiguous inner axis: tasks are outer x blocks of lanes, walking t backwards; each
    row of lanes is computed into local rows, ``PREFETCH_LANES`` at a time with the
    inputs ``PREFETCH_ROWS`` steps ahead asked for (a backward walk over rows defeats the
    hardware prefetcher: 5x slower than forward, even from L2), and then stored (streamed
    past the cache when ``stream``: :mod:`scanwise._kernels.stream`)."""
    n_outer, n_t, n_inner = adv.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        m = i1 - i0
        h = np.zeros(m, dtype=adv.dtype)
        hr = np.zeros_like(h)
        adv_row = np.empty_like(h)
        ret_row = np.empty_like(h)
        for t in range(n_t - 1, -1, -1):
            ahead = max(t - PREFETCH_ROWS, 0)
            for c0 in range(0, m, PREFETCH_LANES):
                c1 = min(m, c0 + PREFETCH_LANES)
                a0, a1 = i0 + c0, i0 + c1
                _ask_all(o, ahead, a0, a1, r, v, nv, None, term, done, valid)
                _lanes(r, v, nv, term, done, valid, g, gl, o, t, a0, h[c0:c1], hr[c0:c1],
                       adv_row[c0:c1], ret_row[c0:c1], t == n_t - 1)
            store_row(adv[o, t, i0:i1], adv_row, stream)
            store_row(ret[o, t, i0:i1], ret_row, stream)
        drain(stream)


@kernel
def gae_rows(r, v, nv, term, done, valid, g, gl, adv, ret):  # pragma: no cover - numba
    """Time is the fast (or only) axis: one series per task, its state in a register."""
    n_outer, n_t, n_inner = adv.shape
    for k in prange(n_outer * n_inner):
        o = k // n_inner
        i = k - o * n_inner
        a = adv.dtype.type(0.0)
        gr = a
        seen = False
        for t in range(n_t - 1, -1, -1):
            if _skipped(valid, o, t, i):
                adv[o, t, i] = a
                ret[o, t, i] = gr
                continue
            vt = v[o, t, i]
            d = _delta(r, v, nv, term, g, o, t, i)
            a = d if not seen or done[o, t, i] else at(gl, o, t, i) * a + d
            seen = True
            gr = a + vt
            adv[o, t, i] = a
            ret[o, t, i] = gr


# --- V-trace -------------------------------------------------------------------------
#
#     rho = exp(log_rhos);  rho_bar = min(clip_rho, rho);  c = lam * min(clip_c, rho)
#     delta[t] = rho_bar[t] * (r[t] + g[t] * (1 - terminated[t]) * nv[t] - v[t])
#     vs[t] - v[t] = delta[t] + g[t] * c[t] * (vs[t+1] - v[t+1])   (cut at done / end)
#     q[t] = lam * vs[t+1] + (1 - lam) * nv[t]   (nv[t] at a done step or the end)
#     pg[t] = min(clip_pg_rho, rho[t]) * (r[t] + g[t] * (1 - terminated[t]) * q[t] - v[t])
#
# A clip of None arrives as inf.  ``exp`` is :func:`vecmath.exp_any` (a polynomial, no
# libm call), so the lane loop vectorises; NaN is selected back.


@njit(inline="always")
def _rho(lr):  # pragma: no cover - numba
    """``exp(lr)`` in ``lr``'s precision (the compute dtype), NaN kept."""
    return exp_any(lr) if lr == lr else lr


@njit(inline="always")
def _vtrace_lanes(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, o, t, i0, h, hv,
                  seen, rho_row, pg_row, last):  # pragma: no cover - numba
    """Step ``t`` of lanes ``i0 ..``: ``h`` holds ``vs - v`` of the next valid step and
    ``hv`` its ``vs`` (on return: this step's, the output row of ``vs``); ``seen`` (with
    ``valid`` only) whether a valid step follows, else ``last`` says none does.

    Branch-free in the outputs' dtype, so LLVM vectorises it; ``rho`` is exponentiated
    in a loop of its own (inside the recursion's loop it kept that loop scalar).  A
    skipped step selects the carried values, its NaN never reaches them."""
    dt = pg_row.dtype.type
    one = dt(1.0)
    zero = dt(0.0)
    for j in range(h.size):
        rho_row[j] = dt(_rho(lr[o, t, lane(r, i0, j)]))
    for j in range(h.size):
        i = lane(r, i0, j)
        rho = rho_row[j]
        gt = at(g, o, t, i)
        lm = at(lam, o, t, i)
        vt = v[o, t, i]
        nvt = nv[o, t, i]
        rt = r[o, t, i]
        tm = term[o, t, i]
        boot = gt * nvt
        boot = boot - boot if tm else boot
        delta = min(cr, rho) * (rt + boot - vt)
        corr = h[j]
        vsn = hv[j]
        if valid is None:
            cut = last or done[o, t, i]
        else:
            cut = done[o, t, i] or not seen[j]
        c = delta if cut else delta + gt * (lm * min(cc, rho)) * corr
        q = nvt if cut else lm * vsn + (one - lm) * nvt
        qb = gt * q
        qb = qb - qb if tm else qb
        pg = min(cp, rho) * (rt + qb - vt)
        if valid is None:
            h[j] = c
            hv[j] = vt + c
            pg_row[j] = pg
        else:
            keep = valid[o, t, i]
            h[j] = c if keep else corr
            hv[j] = vt + c if keep else vsn
            seen[j] = keep or seen[j]
            pg_row[j] = pg if keep else zero


@kernel
def vtrace_time_major(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, vs, pg, block,
                      stream):  # pragma: no cover - numba
    """V-trace, lanes in blocks (any inner stride; time-fast series are one-lane tasks),
    chunk by chunk with the inputs asked for ahead, as :func:`gae_time_major`."""
    n_outer, n_t, n_inner = vs.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        m = i1 - i0
        h = np.zeros(m, dtype=vs.dtype)
        hv = np.zeros_like(h)
        seen = np.zeros(m, dtype=np.bool_)
        rho_row = np.empty_like(h)
        pg_row = np.empty_like(h)
        for t in range(n_t - 1, -1, -1):
            ahead = max(t - PREFETCH_ROWS, 0)
            for c0 in range(0, m, PREFETCH_LANES):
                c1 = min(m, c0 + PREFETCH_LANES)
                a0, a1 = i0 + c0, i0 + c1
                _ask_all(o, ahead, a0, a1, r, v, nv, lr, term, done, valid)
                _vtrace_lanes(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, o, t, a0,
                              h[c0:c1], hv[c0:c1], seen[c0:c1], rho_row[c0:c1],
                              pg_row[c0:c1], t == n_t - 1)
            store_row(vs[o, t, i0:i1], hv, stream)
            store_row(pg[o, t, i0:i1], pg_row, stream)
        drain(stream)


# --- general off-policy return (rlax general_off_policy_returns_from_q_and_v) ---------
#
#     G[t] = r[t] + g[t] * (1 - terminated[t]) * (nv[t] + c[t] * (G[t+1] - nq[t]))
#
# with the trace term dropped at a done step and at the last valid step.


@njit(inline="always")
def _offpolicy_lanes(r, nv, nq, c, term, done, valid, g, o, t, i0, h, seen,
                     last):  # pragma: no cover - numba
    """Step ``t`` of lanes ``i0 ..``: ``h`` holds ``G`` of the next valid step (on return
    this step's, the output row); ``seen`` / ``last`` as in :func:`_vtrace_lanes`.
    Branch-free: a skipped step selects the carried return."""
    for j in range(h.size):
        i = lane(r, i0, j)
        x = nv[o, t, i]
        hn = h[j]
        if valid is None:
            cut = last or done[o, t, i]
        else:
            cut = done[o, t, i] or not seen[j]
        x = x if cut else x + c[o, t, i] * (hn - nq[o, t, i])
        boot = at(g, o, t, i) * x
        boot = boot - boot if term[o, t, i] else boot
        gt = r[o, t, i] + boot
        if valid is None:
            h[j] = gt
        else:
            keep = valid[o, t, i]
            h[j] = gt if keep else hn
            seen[j] = keep or seen[j]


@kernel
def off_policy_time_major(r, nv, nq, c, term, done, valid, g, out, block,
                          stream):  # pragma: no cover - numba
    """The general off-policy return, lanes in blocks (any inner stride), chunk by chunk
    with the inputs asked for ahead, as :func:`gae_time_major`."""
    n_outer, n_t, n_inner = out.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        m = i1 - i0
        h = np.zeros(m, dtype=out.dtype)
        seen = np.zeros(m, dtype=np.bool_)
        for t in range(n_t - 1, -1, -1):
            ahead = max(t - PREFETCH_ROWS, 0)
            for c0 in range(0, m, PREFETCH_LANES):
                c1 = min(m, c0 + PREFETCH_LANES)
                a0, a1 = i0 + c0, i0 + c1
                _ask_all(o, ahead, a0, a1, r, nv, nq, c, term, done, valid)
                _offpolicy_lanes(r, nv, nq, c, term, done, valid, g, o, t, a0, h[c0:c1],
                                 seen[c0:c1], t == n_t - 1)
            store_row(out[o, t, i0:i1], h, stream)
        drain(stream)
