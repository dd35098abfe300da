"""Fused kernel for generalized advantage estimation on ``(outer, T, inner)`` views.

One reverse pass reads every input once and writes both outputs::

    delta[t] = rewards[t] + discount * next_values[t] * (1 - terminated[t]) - values[t]
    A[t]     = delta[t] + discount * lam * A[t + 1]   (A[t] = delta[t] where done[t]
                                                        or t is the last step)
    adv[t] = A[t];  ret[t] = A[t] + values[t]

As in TorchRL and SB3 the bootstrap term is multiplied by zero (not dropped) at a
terminal step, so a NaN ``next_values`` there still propagates; ``x - x`` is that product
in the input dtype.  ``discount`` and ``gl`` (``discount * lam``) are numbers or
broadcast views.  Every lane is computed in time order by one thread: results do not
depend on the block or the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .access import at
from .jit import kernel
from .stream import drain, stream_row


@njit(inline="always")
def _delta(r, v, nv, term, g, o, t, i):  # pragma: no cover - numba
    boot = at(g, o, t, i) * nv[o, t, i]
    boot = boot - boot if term[o, t, i] else boot
    return r[o, t, i] + boot - v[o, t, i]


@njit(inline="always")
def _lanes(r, v, nv, term, done, g, gl, o, t, i0, h, adv_row, ret_row, last):  # pragma: no cover
    """Step ``t`` of lanes ``i0 ..``: ``h`` holds ``A[t + 1]`` (unused when ``last``)."""
    for j in range(h.size):
        i = i0 + j
        vt = v[o, t, i]  # every input is read before either output is written (out=
        d = _delta(r, v, nv, term, g, o, t, i)  # may be the inputs themselves)
        a = d if last or done[o, t, i] else at(gl, o, t, i) * h[j] + d
        h[j] = a
        adv_row[j] = a
        ret_row[j] = a + vt


@kernel
def gae_time_major(r, v, nv, term, done, g, gl, adv, ret, block, stream):  # pragma: no cover
    """Contiguous inner axis: tasks are outer x blocks of lanes, walking t backwards;
    ``stream`` writes the rows past the cache (:mod:`scanwise._kernels.stream`)."""
    n_outer, n_t, n_inner = adv.shape
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o = k // n_blocks
        i0 = (k - o * n_blocks) * block
        i1 = min(n_inner, i0 + block)
        h = np.empty(i1 - i0, dtype=adv.dtype)
        if stream:
            adv_row = np.empty_like(h)
            ret_row = np.empty_like(h)
            for t in range(n_t - 1, -1, -1):
                _lanes(r, v, nv, term, done, g, gl, o, t, i0, h, adv_row, ret_row, t == n_t - 1)
                stream_row(adv[o, t, i0:i1], adv_row)
                stream_row(ret[o, t, i0:i1], ret_row)
            drain(stream)
        else:
            for t in range(n_t - 1, -1, -1):
                adv_row = adv[o, t, i0:i1]
                ret_row = ret[o, t, i0:i1]
                _lanes(r, v, nv, term, done, g, gl, o, t, i0, h, adv_row, ret_row, t == n_t - 1)


@kernel
def gae_rows(r, v, nv, term, done, g, gl, adv, ret):  # pragma: no cover - numba
    """Time is the fast (or only) axis: one series per task, its state in a register."""
    n_outer, n_t, n_inner = adv.shape
    for k in prange(n_outer * n_inner):
        o = k // n_inner
        i = k - o * n_inner
        if n_t == 0:
            continue
        vt = v[o, n_t - 1, i]
        a = _delta(r, v, nv, term, g, o, n_t - 1, i)
        adv[o, n_t - 1, i] = a
        ret[o, n_t - 1, i] = a + vt
        for t in range(n_t - 2, -1, -1):
            vt = v[o, t, i]
            d = _delta(r, v, nv, term, g, o, t, i)
            a = d if done[o, t, i] else at(gl, o, t, i) * a + d
            adv[o, t, i] = a
            ret[o, t, i] = a + vt
