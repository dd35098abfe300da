"""Reduce-then-scan kernel for a few long series of ``h[t] = a[t] * h[t-1] + b[t]``.

Same canonical layout and start/reset rule (``init`` at the first step, ``rval`` at
resets) as :mod:`scanwise._kernels.scans.linear`.  Steps
are grouped with the carry law of :mod:`scanwise._carry`, four per link of the
dependency chain, so it rounds differently from the one-step-at-a-time loop (results
agree to a few ulps times the series length; they never depend on the thread count).
"""

from __future__ import annotations

from numba import njit, prange

from ..._carry import apply, compose
from ..access import at
from ..jit import kernel
from ..stream import drain, put


@njit(inline="always")
def _step(a, b, init, rval, reset, o, t, i, first=False):  # pragma: no cover - numba
    """Step t as a map ``(restart, A, B)``, with the start/reset rule folded in.

    ``first`` is true only for the call that may be step 0; elsewhere it is the constant
    False, so without ``reset`` the restart branches fold away after inlining.
    """
    av = at(a, o, t, i)
    bv = b[o, t, i]
    if reset is not None and reset[o, t, i]:
        if rval is None:
            return True, av, bv
        return True, av, av * rval[o, t, i] + bv
    if first and t == 0:
        if init is None:
            return True, av, bv
        return True, av, av * init[o, t, i] + bv
    return False, av, bv


@njit(inline="always")
def _four(a, b, init, rval, reset, o, t, i):  # pragma: no cover - numba
    """Maps of steps t..t+3 as prefixes: (t), (t..t+1), (t..t+2), (t..t+3)."""
    r0, a0, b0 = _step(a, b, init, rval, reset, o, t, i)
    r1, a1, b1 = _step(a, b, init, rval, reset, o, t + 1, i)
    r2, a2, b2 = _step(a, b, init, rval, reset, o, t + 2, i)
    r3, a3, b3 = _step(a, b, init, rval, reset, o, t + 3, i)
    r01, a01, b01 = compose(r0, a0, b0, r1, a1, b1)
    r02, a02, b02 = compose(r01, a01, b01, r2, a2, b2)
    r03, a03, b03 = compose(r02, a02, b02, r3, a3, b3)
    return r0, a0, b0, r01, a01, b01, r02, a02, b02, r03, a03, b03


@njit(inline="always")
def _summary(a, b, init, rval, reset, o, i, t0, t1):  # pragma: no cover - numba
    """Compose the maps of steps ``t0 <= t < t1`` into one ``(r, A, B)``."""
    r, A, B = _step(a, b, init, rval, reset, o, t0, i, True)
    t = t0 + 1
    while t + 4 <= t1:
        _, _, _, _, _, _, _, _, _, rk, ak, bk = _four(a, b, init, rval, reset, o, t, i)
        r, A, B = compose(r, A, B, rk, ak, bk)
        t += 4
    while t < t1:
        rk, ak, bk = _step(a, b, init, rval, reset, o, t, i)
        r, A, B = compose(r, A, B, rk, ak, bk)
        t += 1
    return r, A, B


@njit(inline="always")
def _rescan(a, b, init, rval, reset, out, o, i, t0, t1, h, stream):  # pragma: no cover - numba
    """Write ``out[t0:t1]`` from the entering state ``h``; one chain link per 4 steps
    (``stream``: non-temporal stores, :mod:`scanwise._kernels.stream`)."""
    rk, ak, bk = _step(a, b, init, rval, reset, o, t0, i, True)
    h = apply(rk, ak, bk, h)
    put(out, (o, t0, i), h, stream)
    t = t0 + 1
    while t + 4 <= t1:
        r0, a0, b0, r1, a1, b1, r2, a2, b2, r3, a3, b3 = _four(a, b, init, rval, reset, o, t, i)
        put(out, (o, t, i), apply(r0, a0, b0, h), stream)
        put(out, (o, t + 1, i), apply(r1, a1, b1, h), stream)
        put(out, (o, t + 2, i), apply(r2, a2, b2, h), stream)
        h = apply(r3, a3, b3, h)
        put(out, (o, t + 3, i), h, stream)
        t += 4
    while t < t1:
        rk, ak, bk = _step(a, b, init, rval, reset, o, t, i)
        h = apply(rk, ak, bk, h)
        put(out, (o, t, i), h, stream)
        t += 1


def _chunked_kernel(stream: bool) -> kernel:
    """:func:`linear_scan_chunked` writing with non-temporal stores when ``stream`` (a
    closure constant: each call compiles only the copy of the rescan it runs)."""

    def linear_scan_chunked(
        a, b, init, rval, reset, out, chunk, sum_r, sum_a, sum_b
    ):  # pragma: no cover - numba
        """Reduce-then-scan over fixed-size time chunks, series after series.

        1. every chunk is summarised as one map ``(r, A, B)`` (chunks in parallel);
        2. the summaries are folded in order: the state entering each chunk;
        3. every chunk is rescanned from its entering state (chunks in parallel).

        Chunk borders depend only on ``chunk``, never on the thread count.  ``sum_r`` (bool),
        ``sum_a`` and ``sum_b`` (output dtype) are scratch arrays of ``ceil(T / chunk)``
        elements.
        """
        n_outer, n_t, n_inner = out.shape
        if n_t == 0:
            return
        n_chunks = (n_t + chunk - 1) // chunk
        for o in range(n_outer):
            for i in range(n_inner):
                for c in prange(n_chunks):
                    t0 = c * chunk
                    r, A, B = _summary(a, b, init, rval, reset, o, i, t0, min(n_t, t0 + chunk))
                    sum_r[c] = r
                    sum_a[c] = A
                    sum_b[c] = B
                h = sum_b[0]
                for c in range(n_chunks):
                    B = sum_b[c]
                    sum_b[c] = h
                    h = apply(sum_r[c], sum_a[c], B, h)
                for c in prange(n_chunks):
                    t0 = c * chunk
                    t1 = min(n_t, t0 + chunk)
                    _rescan(a, b, init, rval, reset, out, o, i, t0, t1, sum_b[c], stream)
                    drain(stream)

    linear_scan_chunked.__qualname__ = f"linear_scan_chunked{'_stream' if stream else ''}"
    # scalar code that walks one lane down the time axis: typed for the strided layout
    # only, so a reversed (negative-stride) view and a contiguous one share one
    # compilation, at the same speed (docs/design.md, "Measurements behind kernel choices")
    return kernel(linear_scan_chunked, layout="A")


# ``CHUNKED_KERNELS[stream]``: compiled only when used
CHUNKED_KERNELS = (_chunked_kernel(False), _chunked_kernel(True))
