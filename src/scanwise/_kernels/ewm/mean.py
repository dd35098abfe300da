"""Exponentially weighted mean (pandas' ``ewm``): the lane kernels by fast path, and the
chunk-parallel mean of a few long series (summarise chunks, carry, rescan)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..jit import kernel
from ..stream import PREFETCH_LANES, PREFETCH_ROWS, drain, stream_row
from .lanes import TILE, _chunk, _load_tiles, _store_tile, _task, _tiles


@njit(forceinline=True)
def _mean_step(w, ow, n, r, cur, f, nw0, irregular, adjust, ignore_na):  # pragma: no cover
    """One step of one lane of the EW mean, branch-free; ``r``: reset at this step.

    Kernel form of the state: a lane that has not started has ``w = NaN`` and weight
    ``ow = 0`` (pandas keeps 1 there), so that its first observation is an ordinary
    update, ``0 + (x - 0) * nw / (0 + nw) == x`` exactly, and decaying it changes nothing.
    """
    w = np.nan if r else w
    ow = 0.0 if r else ow
    n = 0.0 if r else n
    obs = cur - cur == 0.0  # finite: pandas treats +-inf as missing, like NaN
    we = w if w == w else 0.0
    if ignore_na:
        ow = ow * f if obs else ow
    else:
        ow = ow * f
    nw = 1.0 - ow if irregular else nw0
    # pandas' (ow*w + nw*cur) / (ow + nw), written as an increment: the division is
    # off the dependency chain through ``w``, and ``w == cur`` leaves ``w`` as it is
    # (pandas tests that case to keep constant series exact)
    moved = we + (cur - we) * (nw / (ow + nw))
    w = moved if obs else w
    ow = (ow + nw if adjust else 1.0) if obs else ow
    n += 1.0 if obs else 0.0
    return w, ow, n


@njit(inline="always")
def _mean_lanes(
    xr, outr, rr, mean, old_wt, nobs, f, nw0, irregular, adjust, ignore_na, minp, count
):  # pragma: no cover - numba
    """One time step of a block of lanes (row slices ``xr``/``outr``/``rr``)."""
    for j in range(mean.size):
        r = rr is not None and rr[j]
        w, ow, n = _mean_step(
            mean[j], old_wt[j], nobs[j] if count else 0.0, r, xr[j], f, nw0, irregular,
            adjust, ignore_na,
        )
        # ``+ 0.0``: not the select of the loaded value that LLVM turns into a masked
        # store (vmaskmovpd, slow on AMD: 0.88 vs 0.63 ns per element)
        mean[j] = w + 0.0
        old_wt[j] = ow
        if count:
            nobs[j] = n
            outr[j] = w if n >= minp else np.nan
        else:  # minp <= 1: NaN until the first observation is the mean itself
            outr[j] = w


@njit(inline="always")
def _to_kernel_form(mean, old_wt):  # pragma: no cover - numba
    for j in range(mean.size):
        old_wt[j] = old_wt[j] if mean[j] == mean[j] else 0.0


@njit(inline="always")
def _to_pandas_form(mean, old_wt):  # pragma: no cover - numba
    for j in range(mean.size):
        old_wt[j] = old_wt[j] if mean[j] == mean[j] else 1.0


def mean_fast_path(adjust: bool, ignore_na: bool, irregular: bool, counted: bool) -> int:
    """The constant lane loop of :func:`ewm_mean_scan` for these flags (0: none)."""
    if ignore_na or irregular or counted:
        return 0
    return 1 if adjust else 2


def _mean_kernel(fast: int, staged: bool) -> kernel:
    """:func:`ewm_mean_scan` with the lane loop ``fast`` (see :func:`mean_fast_path`),
    staged lanes when ``staged``."""

    def ewm_mean_scan(
        x, factor, reset, state, out, block, alpha, adjust, ignore_na, irregular, minp, stream
    ):  # pragma: no cover - numba
        """EW mean; ``state`` fields: mean, old_wt, nobs.

        A task of one lane keeps its state in registers; wider tasks keep it in small
        arrays and run the lane loop inside the time loop (vectorised when contiguous), in
        chunks of ``PREFETCH_LANES`` lanes, each after asking for its lines
        ``PREFETCH_ROWS`` steps ahead (:func:`~scanwise._kernels.stream.prefetch_row`).
        The output is only written, never read: ``stream`` writes it past the cache
        (:mod:`scanwise._kernels.stream`).

        ``fast`` (a closure constant, see :func:`mean_fast_path`) selects a copy of the
        lane loop with the flags of a common configuration as constants that LLVM folds,
        and without the observation count (the caller then discards the state's
        ``nobs``); ``fast == 0`` tests the flags per element and counts.  In cache, one
        thread, [1000, 200]: 0.69 ns per element on a constant copy, 0.93 on the other,
        1.19 before.  Three kernels rather than every flag a compile-time constant: the
        test suite would compile ~100 specialisations (minutes of CI).  ``staged`` (a
        closure constant): strided layouts with many lanes run the vectorised lane loop
        over transposed tiles, as :func:`~scanwise._kernels.ewm.cov.ewm_cov_scan`.
        """
        n_outer, n_t, n_inner = out.shape
        n_blocks = (n_inner + block - 1) // block
        nw0 = 1.0 if adjust else alpha
        for k in prange(n_outer * n_blocks):
            o, i0, m = _task(k, n_blocks, n_inner, block)
            mean = state[0, o, i0 : i0 + m].copy()
            old_wt = state[1, o, i0 : i0 + m].copy()
            nobs = state[2, o, i0 : i0 + m].copy()
            _to_kernel_form(mean, old_wt)
            if staged:
                xs, _, rs, os = _tiles(m, out.dtype)
                for t0 in range(0, n_t, TILE):
                    nt = min(TILE, n_t - t0)
                    _load_tiles(x, None, reset, xs, xs, rs, o, t0, nt, i0, m)
                    for tt in range(nt):
                        f = factor[t0 + tt]
                        rr = rs[tt] if reset is not None else None
                        if fast == 1:
                            _mean_lanes(xs[tt], os[tt], rr, mean, old_wt, nobs, f, 1.0, False,
                                        True, False, minp, False)
                        elif fast == 2:
                            _mean_lanes(xs[tt], os[tt], rr, mean, old_wt, nobs, f, alpha, False,
                                        False, False, minp, False)
                        else:
                            _mean_lanes(xs[tt], os[tt], rr, mean, old_wt, nobs, f, nw0,
                                        irregular, adjust, ignore_na, minp, True)
                    _store_tile(out, os, o, t0, nt, i0, m)
            elif m == 1:
                w, ow, n = mean[0], old_wt[0], nobs[0]
                for t in range(n_t):
                    r = reset is not None and reset[o, t, i0]
                    w, ow, n = _mean_step(
                        w, ow, n, r, x[o, t, i0], factor[t], nw0, irregular, adjust, ignore_na
                    )
                    out[o, t, i0] = w if n >= minp else np.nan
                mean[0], old_wt[0], nobs[0] = w, ow, n
            else:
                row = np.empty(m, dtype=out.dtype)
                for t in range(n_t):
                    f = factor[t]
                    ahead = min(t + PREFETCH_ROWS, n_t - 1)
                    outr = out[o, t, i0 : i0 + m]
                    dst = row if stream else outr  # streamed: through L1, then past the cache
                    # chunks of the row: name the chunk's lines PREFETCH_ROWS steps ahead,
                    # then scan it (unit-stride slices: lane loops that LLVM vectorises)
                    for c0 in range(0, m, PREFETCH_LANES):
                        c1, a0, a1 = _chunk(x, None, o, ahead, i0, c0, m)
                        xr = x[o, t, a0:a1]
                        rr = reset[o, t, a0:a1] if reset is not None else None
                        d, w, ow, n = dst[c0:c1], mean[c0:c1], old_wt[c0:c1], nobs[c0:c1]
                        if fast == 1:
                            _mean_lanes(xr, d, rr, w, ow, n, f, 1.0, False, True, False, minp,
                                        False)
                        elif fast == 2:
                            _mean_lanes(xr, d, rr, w, ow, n, f, alpha, False, False, False, minp,
                                        False)
                        else:
                            _mean_lanes(xr, d, rr, w, ow, n, f, nw0, irregular, adjust,
                                        ignore_na, minp, True)
                    if stream:
                        stream_row(outr, row)
                drain(stream)
            _to_pandas_form(mean, old_wt)
            state[0, o, i0 : i0 + m] = mean
            state[1, o, i0 : i0 + m] = old_wt
            if fast == 0 or (m == 1 and not staged):  # counted
                state[2, o, i0 : i0 + m] = nobs

    ewm_mean_scan.__qualname__ = f"ewm_mean_scan_{fast}{'_staged' if staged else ''}"
    return kernel(ewm_mean_scan, layout="A" if staged else None)  # one cache entry each


# ``MEAN_KERNELS[staged][fast]``: a closure constant each, so numba compiles only that copy
# of the lane loop (constants tested in one kernel would compile all three, 8 s each)
MEAN_KERNELS = tuple(tuple(_mean_kernel(fast, staged) for fast in range(3))
                     for staged in (False, True))


@njit(forceinline=True)
def _num_den_step(v, f, ignore_na, prod, num, den, cnt):  # pragma: no cover - numba
    """One step of the mean's two linear recurrences (and of the product of ``a``)."""
    obs = v - v == 0.0
    a = f if obs or not ignore_na else 1.0
    return a * prod, a * num + (v if obs else 0.0), a * den + (1.0 if obs else 0.0), cnt + (
        1.0 if obs else 0.0
    )


@njit(inline="always")
def _summarise(x, factor, reset, ignore_na, lo, hi, scratch, c):  # pragma: no cover
    """``scratch[c]`` = summary of steps ``lo .. hi``: (restart, prod, num, den, count)."""
    restart = 0.0
    prod = 1.0
    bn = 0.0
    bd = 0.0
    cnt = 0.0
    for t in range(lo, hi):
        if reset is not None and reset[t]:
            restart = 1.0
            prod = 1.0
            bn = 0.0
            bd = 0.0
            cnt = 0.0
        prod, bn, bd, cnt = _num_den_step(x[t], factor[t], ignore_na, prod, bn, bd, cnt)
    scratch[c, 0] = restart
    scratch[c, 1] = prod
    scratch[c, 2] = bn
    scratch[c, 3] = bd
    scratch[c, 4] = cnt


@njit(inline="always")
def _summarise4(x, factor, ignore_na, lo, q, scratch, c):  # pragma: no cover - numba
    """Summaries of the four chunks ``c .. c+3`` of ``q`` steps each (no resets), their
    four dependency chains interleaved so that they overlap in the pipeline."""
    p0 = p1 = p2 = p3 = 1.0
    n0 = n1 = n2 = n3 = 0.0
    d0 = d1 = d2 = d3 = 0.0
    k0 = k1 = k2 = k3 = 0.0
    for s in range(q):
        t = lo + s
        p0, n0, d0, k0 = _num_den_step(x[t], factor[t], ignore_na, p0, n0, d0, k0)
        t += q
        p1, n1, d1, k1 = _num_den_step(x[t], factor[t], ignore_na, p1, n1, d1, k1)
        t += q
        p2, n2, d2, k2 = _num_den_step(x[t], factor[t], ignore_na, p2, n2, d2, k2)
        t += q
        p3, n3, d3, k3 = _num_den_step(x[t], factor[t], ignore_na, p3, n3, d3, k3)
    _put_summary(scratch, c, p0, n0, d0, k0)
    _put_summary(scratch, c + 1, p1, n1, d1, k1)
    _put_summary(scratch, c + 2, p2, n2, d2, k2)
    _put_summary(scratch, c + 3, p3, n3, d3, k3)


@njit(inline="always")
def _put_summary(scratch, c, prod, num, den, cnt):  # pragma: no cover - numba
    scratch[c, 0] = 0.0
    scratch[c, 1] = prod
    scratch[c, 2] = num
    scratch[c, 3] = den
    scratch[c, 4] = cnt


@njit(inline="always")
def _rescan_mean(x, factor, reset, out, ignore_na, minp, lo, hi, num, den, cnt):  # pragma: no cover
    """Write ``out[lo:hi]`` from the entering ``(num, den, count)``."""
    prod = 1.0
    for t in range(lo, hi):
        if reset is not None and reset[t]:
            num = 0.0
            den = 0.0
            cnt = 0.0
        prod, num, den, cnt = _num_den_step(x[t], factor[t], ignore_na, prod, num, den, cnt)
        out[t] = num / den if cnt >= minp else np.nan


@njit(inline="always")
def _rescan_mean4(x, factor, out, ignore_na, minp, lo, q, scratch, c):  # pragma: no cover
    """:func:`_rescan_mean` of the four chunks ``c .. c+3`` (no resets), interleaved."""
    n0, d0, k0 = scratch[c, 2], scratch[c, 3], scratch[c, 4]
    n1, d1, k1 = scratch[c + 1, 2], scratch[c + 1, 3], scratch[c + 1, 4]
    n2, d2, k2 = scratch[c + 2, 2], scratch[c + 2, 3], scratch[c + 2, 4]
    n3, d3, k3 = scratch[c + 3, 2], scratch[c + 3, 3], scratch[c + 3, 4]
    p = 1.0
    for s in range(q):
        t = lo + s
        _, n0, d0, k0 = _num_den_step(x[t], factor[t], ignore_na, p, n0, d0, k0)
        out[t] = n0 / d0 if k0 >= minp else np.nan
        t += q
        _, n1, d1, k1 = _num_den_step(x[t], factor[t], ignore_na, p, n1, d1, k1)
        out[t] = n1 / d1 if k1 >= minp else np.nan
        t += q
        _, n2, d2, k2 = _num_den_step(x[t], factor[t], ignore_na, p, n2, d2, k2)
        out[t] = n2 / d2 if k2 >= minp else np.nan
        t += q
        _, n3, d3, k3 = _num_den_step(x[t], factor[t], ignore_na, p, n3, d3, k3)
        out[t] = n3 / d3 if k3 >= minp else np.nan


@kernel
def ewm_mean_chunked(x, factor, reset, state, out, chunk, ignore_na, minp, scratch):
    # pragma: no cover - numba
    """EW mean (``adjust=True``) of one long series, parallel over fixed time chunks.

    The mean is ``num / den`` with ``num[t] = a[t]*num + x[t]`` and ``den[t] = a[t]*den + 1``
    on observations (``a[t] = factor[t]`` where pandas decays, else 1; a NaN adds 0), two
    linear recurrences sharing ``a``: each chunk is summarised (restart flag, product of
    ``a``, both sums from zero, observation count), the summaries are carried along in
    order (the carry law of :mod:`scanwise._carry`), and every chunk is rescanned from its
    carried ``(num, den, nobs)``.  A task takes four neighbouring chunks and, when they are
    full and there are no resets, walks them interleaved (four dependency chains in
    flight); the arithmetic per chunk is the same either way.  ``state`` is ``(mean,
    old_wt, nobs)`` for this series (``old_wt == den``).  Rounds differently from pandas'
    normalised update (a few ulps); after the weights underflow to 0 (a gap of over ~1000
    halflives) a missing step outputs NaN where pandas repeats the last mean.
    """
    n = x.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    n_groups = (n_chunks + 3) // 4
    for g in prange(n_groups):
        c = 4 * g
        if reset is None and 4 * chunk * (g + 1) <= n:
            _summarise4(x, factor, ignore_na, c * chunk, chunk, scratch, c)
        else:
            for cc in range(c, min(n_chunks, c + 4)):
                _summarise(x, factor, reset, ignore_na, cc * chunk, min(n, cc * chunk + chunk),
                           scratch, cc)
    # the carry pass: the state entering each chunk, in order
    mean0 = state[0]
    started = mean0 == mean0
    num = mean0 * state[1] if started else 0.0
    den = state[1] if started else 0.0
    nobs = state[2]
    for c in range(n_chunks):
        r = scratch[c, 0]
        prod = scratch[c, 1]
        bn = scratch[c, 2]
        bd = scratch[c, 3]
        cnt = scratch[c, 4]
        scratch[c, 2] = num
        scratch[c, 3] = den
        scratch[c, 4] = nobs
        if r != 0.0:
            num, den, nobs = bn, bd, cnt
        else:
            num = prod * num + bn
            den = prod * den + bd
            nobs = nobs + cnt
    state[0] = num / den if den != 0.0 else np.nan
    state[1] = den if den != 0.0 else 1.0
    state[2] = nobs
    for g in prange(n_groups):
        c = 4 * g
        if reset is None and 4 * chunk * (g + 1) <= n:
            _rescan_mean4(x, factor, out, ignore_na, minp, c * chunk, chunk, scratch, c)
        else:
            for cc in range(c, min(n_chunks, c + 4)):
                lo = cc * chunk
                _rescan_mean(x, factor, reset, out, ignore_na, minp, lo, min(n, lo + chunk),
                             scratch[cc, 2], scratch[cc, 3], scratch[cc, 4])
