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

Skipped steps (``valid`` false) are identity steps: nothing of theirs is read (a NaN
there reaches no output), the state passes through unchanged and their outputs repeat
the carried ones (0 past the last valid step; V-trace's ``pg`` is 0 there).

As in TorchRL and SB3 the bootstrap term is multiplied by zero (not dropped) at a
terminal step, so a NaN ``next_values`` there still propagates; ``x - x`` is that
product in the input dtype.  A ``done`` step cuts the trace (the carried state is not
read, so the next episode's values never leak in).  Every lane is computed in time
order by one thread: results do not depend on the block or the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..access import at
from ..jit import kernel
from ..stream import drain, stream_row
from ..vecmath import exp_nonpos


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
    the end; unused when ``last``), ``hr`` its return (with ``valid`` only)."""
    for j in range(h.size):
        i = i0 + j
        if _skipped(valid, o, t, i):
            adv_row[j] = h[j]
            ret_row[j] = hr[j]
            continue
        vt = v[o, t, i]  # every input is read before either output is written (out=
        d = _delta(r, v, nv, term, g, o, t, i)  # may be the inputs themselves)
        a = d if last or done[o, t, i] else at(gl, o, t, i) * h[j] + d
        h[j] = a
        adv_row[j] = a
        ret_row[j] = a + vt
        if valid is not None:
            hr[j] = a + vt


@kernel
def gae_time_major(r, v, nv, term, done, valid, g, gl, adv, ret, block,
                   stream):  # pragma: no cover - numba
    """Contiguous inner axis: tasks are outer x blocks of lanes, walking t backwards;
    ``stream`` writes the rows past the cache (:mod:`scanwise._kernels.stream`)."""
    n_outer, n_t, n_inner = adv.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        h = np.zeros(i1 - i0, dtype=adv.dtype)
        hr = np.zeros_like(h)
        if stream:
            adv_row = np.empty_like(h)
            ret_row = np.empty_like(h)
            for t in range(n_t - 1, -1, -1):
                _lanes(r, v, nv, term, done, valid, g, gl, o, t, i0, h, hr, adv_row, ret_row,
                       t == n_t - 1)
                stream_row(adv[o, t, i0:i1], adv_row)
                stream_row(ret[o, t, i0:i1], ret_row)
            drain(stream)
        else:
            for t in range(n_t - 1, -1, -1):
                adv_row = adv[o, t, i0:i1]
                ret_row = ret[o, t, i0:i1]
                _lanes(r, v, nv, term, done, valid, g, gl, o, t, i0, h, hr, adv_row, ret_row,
                       t == n_t - 1)


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
# A clip of None arrives as inf.  ``exp`` is :func:`vecmath.exp_nonpos` of ``-|x|``
# (a reciprocal for positive ``x``), so the lane loop vectorises; NaN is selected back.


@njit(inline="always")
def _rho(lr):  # pragma: no cover - numba
    x = np.float64(lr)
    e = exp_nonpos(-abs(x))
    rho = e if x <= 0.0 else 1.0 / e
    return rho if x == x else x


@njit(inline="always")
def _vtrace_step(r, v, nv, lr, term, g, lam, cr, cc, cp, o, t, i, corr, vsn,
                 cut):  # pragma: no cover - numba
    """``(vs, pg, corr)`` of step ``t`` from the next valid step's ``corr`` and ``vs``."""
    rho = _rho(lr[o, t, i])
    gt = at(g, o, t, i)
    lm = at(lam, o, t, i)
    vt = v[o, t, i]
    nvt = nv[o, t, i]
    boot = gt * nvt
    boot = boot - boot if term[o, t, i] else boot
    delta = min(cr, rho) * (r[o, t, i] + boot - vt)
    if cut:
        c = delta
        q = nvt
    else:
        c = delta + gt * (lm * min(cc, rho)) * corr
        q = lm * vsn + (1.0 - lm) * nvt
    qb = gt * q
    qb = qb - qb if term[o, t, i] else qb
    pg = min(cp, rho) * (r[o, t, i] + qb - vt)
    return vt + c, pg, c


@njit(inline="always")
def _vtrace_lanes(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, o, t, i0, h, hv, seen,
                  vs_row, pg_row):  # pragma: no cover - numba
    for j in range(h.size):
        i = i0 + j
        if _skipped(valid, o, t, i):
            vs_row[j] = hv[j]
            pg_row[j] = 0.0
            continue
        cut = not seen[j] or done[o, t, i]
        vs, pg, c = _vtrace_step(r, v, nv, lr, term, g, lam, cr, cc, cp, o, t, i, h[j], hv[j],
                                 cut)
        h[j] = c
        hv[j] = vs
        seen[j] = True
        vs_row[j] = vs
        pg_row[j] = pg


@kernel
def vtrace_time_major(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, vs, pg, block,
                      stream):  # pragma: no cover - numba
    """V-trace, lanes in blocks (any inner stride; time-fast series are one-lane tasks)."""
    n_outer, n_t, n_inner = vs.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        h = np.zeros(i1 - i0, dtype=np.float64)
        hv = np.zeros_like(h)
        seen = np.zeros(i1 - i0, dtype=np.bool_)
        vs_row = np.empty(i1 - i0, dtype=vs.dtype)
        pg_row = np.empty_like(vs_row)
        for t in range(n_t - 1, -1, -1):
            if stream:
                _vtrace_lanes(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, o, t, i0, h,
                              hv, seen, vs_row, pg_row)
                stream_row(vs[o, t, i0:i1], vs_row)
                stream_row(pg[o, t, i0:i1], pg_row)
            else:
                _vtrace_lanes(r, v, nv, lr, term, done, valid, g, lam, cr, cc, cp, o, t, i0, h,
                              hv, seen, vs[o, t, i0:i1], pg[o, t, i0:i1])
        drain(stream)


# --- general off-policy return (rlax general_off_policy_returns_from_q_and_v) ---------
#
#     G[t] = r[t] + g[t] * (1 - terminated[t]) * (nv[t] + c[t] * (G[t+1] - nq[t]))
#
# with the trace term dropped at a done step and at the last valid step.


@njit(inline="always")
def _offpolicy_lanes(r, nv, nq, c, term, done, valid, g, o, t, i0, h, seen,
                     row):  # pragma: no cover - numba
    for j in range(h.size):
        i = i0 + j
        if _skipped(valid, o, t, i):
            row[j] = h[j]
            continue
        x = nv[o, t, i]
        if seen[j] and not done[o, t, i]:
            x = x + c[o, t, i] * (h[j] - nq[o, t, i])
        boot = at(g, o, t, i) * x
        boot = boot - boot if term[o, t, i] else boot
        gt = r[o, t, i] + boot
        h[j] = gt
        seen[j] = True
        row[j] = gt


@kernel
def off_policy_time_major(r, nv, nq, c, term, done, valid, g, out, block,
                          stream):  # pragma: no cover - numba
    """The general off-policy return, lanes in blocks (any inner stride)."""
    n_outer, n_t, n_inner = out.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o, i0, i1 = task_lanes(k, n_blocks, block, n_inner)
        h = np.zeros(i1 - i0, dtype=out.dtype)
        seen = np.zeros(i1 - i0, dtype=np.bool_)
        row = np.empty_like(h)
        for t in range(n_t - 1, -1, -1):
            if stream:
                _offpolicy_lanes(r, nv, nq, c, term, done, valid, g, o, t, i0, h, seen, row)
                stream_row(out[o, t, i0:i1], row)
            else:
                _offpolicy_lanes(r, nv, nq, c, term, done, valid, g, o, t, i0, h, seen,
                                 out[o, t, i0:i1])
        drain(stream)
