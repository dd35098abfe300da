"""Decay factors ``0.5 ** (dt / halflife)`` of ``times=`` (datetime64 ticks or numbers;
NaT and gaps as pandas)."""

from __future__ import annotations

import functools

import numpy as np
from numba import prange

from ..jit import kernel
from ..vecmath import exp2_nonpos

NAT = np.iinfo(np.int64).min  # datetime64's NaT as int64 ticks


@functools.partial(kernel, contract=True)  # FMAs in exp2: 1.2-1.5x, still <= 1 ulp (README 7)
def decay_factors(values, halflife, last, ticks, out):  # pragma: no cover - numba
    """``out[t] = 0.5 ** ((values[t] - values[t-1]) / halflife)``; ``values[-1]`` is
    ``last`` (the state's last time), or ``out[0] = 1`` when ``last`` is NaN.

    ``values`` are int64 datetime ticks (``ticks``) or float64 numbers; differences are
    taken after converting to float64, as pandas does.  Returns ``(bad, nat)``: the number
    of decreasing steps and, for ticks, of NaT values (counted here, in the pass that
    reads the times anyway: a separate ``min`` reduction cost 0.6-1.5 ms of a 2e6-point
    ``times=`` mean).
    """
    n = values.shape[0]
    n_chunks = (n + 4095) // 4096
    bad = 0
    nat = 0
    for c in prange(n_chunks):
        lo = c * 4096
        prev = last if lo == 0 else np.float64(values[lo - 1])
        for t in range(lo, min(n, lo + 4096)):
            v = values[t]
            nat += 1 if ticks and v == NAT else 0
            cur = np.float64(v)  # each value converted once
            d = (cur - prev) / halflife
            prev = cur
            bad += 0 if d >= 0.0 else 1
            out[t] = exp2_nonpos(-d)  # vectorised; within an ulp of libm
    if n and last != last:
        bad -= 1  # the NaN first step is no decreasing step: it does not decay
        out[0] = 1.0
    return bad, nat
