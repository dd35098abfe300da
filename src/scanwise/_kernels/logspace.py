"""Kernel for ``logcumsumexp``: ``h[t] = logaddexp(h[t-1], x[t])`` on ``(outer, T, inner)``.

Start/reset rule as in :mod:`scanwise._kernels.linear`, in log space: the identity is
``-inf``, so a restart without ``init`` gives ``h[t] = x[t]`` and with ``init`` gives
``logaddexp(init, x[t])``.  ``logaddexp`` follows NumPy's definition exactly: equal
arguments (including two infinities of one sign) return ``x + log(2)``; otherwise the
larger argument plus ``log1p(exp(-|x - y|))``, which never overflows; NaN propagates.
"""

from __future__ import annotations

import math

from numba import njit, prange

from .jit import kernel

LN2 = math.log(2.0)


@njit(inline="always")
def logaddexp(x, y):  # pragma: no cover - numba
    """``log(exp(x) + exp(y))`` without overflow (NumPy's ``npy_logaddexp``)."""
    if x == y:
        return x + LN2
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


@kernel
def logaddexp_scan(x, init, reset, out, block):  # pragma: no cover - numba
    """Sequential log-add scan along axis 1; parallel over outer x blocks of inner lanes."""
    n_outer, n_t, n_inner = out.shape
    if n_t == 0 or n_inner == 0:
        return
    n_blocks = (n_inner + block - 1) // block
    for k in prange(n_outer * n_blocks):
        o = k // n_blocks
        i0 = (k - o * n_blocks) * block
        i1 = min(n_inner, i0 + block)
        for t in range(n_t):
            for i in range(i0, i1):
                restart = t == 0
                if reset is not None and not restart:
                    restart = reset[o, t, i]
                if restart:
                    if init is None:
                        out[o, t, i] = x[o, t, i]
                    else:
                        out[o, t, i] = logaddexp(init[o, t, i], x[o, t, i])
                else:
                    out[o, t, i] = logaddexp(out[o, t - 1, i], x[o, t, i])
