"""Kernels for exponentially weighted mean, variance, covariance and correlation.

The update rules are pandas' (``pandas/_libs/window/aggregations.pyx``: ``ewm`` and
``ewmcov``), written for many series at once.  The mean is the ratio of two linear
recurrences sharing the coefficient ``a[t]`` (see DESIGN.md), ``num[t] = a*num + x`` and
``den[t] = a*den + 1``; like pandas it is carried in normalised form, ``mean = num/den``
and ``old_wt = den``, which keeps the numbers bounded (no underflow across long NaN gaps
or huge time gaps) and rounds exactly like pandas.

Canonical views as everywhere (:mod:`scanwise._layout`): ``x``, ``y``, ``reset`` and
``out`` are ``(outer, T, inner)``.  A task is one outer index and a block of ``block``
neighbouring lanes of ``inner``; its per-lane state lives in small local arrays and the
time loop is outside the lane loop.  With a contiguous inner axis the lane loop
vectorises; with a strided one (time is the fast axis) the lanes are independent
dependency chains in flight together.  Either way each lane is computed in time order by
one thread: results never depend on ``block`` or on the thread count.

``factor[t]`` (1-D, length T) is the decay applied when step ``t`` decays the state:
``1 - alpha`` everywhere, or ``0.5 ** (dt / halflife)`` with ``times``.  ``state`` is ``(F, outer,
inner)`` (fields listed in :mod:`scanwise._ewm_state`), read before the first step and
written after the last.

Per step (one lane), with ``started = mean == mean``:

* ``reset[t]``: the state becomes fresh (``mean = NaN``, weights 1, ``nobs = 0``);
* ``obs = x[t] is not NaN`` (and ``y[t]`` for cov/corr);
* started and (obs or not ignore_na): weights decay, ``old_wt *= factor[t]``;
* started and obs: ``new_wt = 1`` (adjust) or ``alpha`` (or ``1 - old_wt`` when
  ``irregular``); ``mean = (old_wt*mean + new_wt*x)/(old_wt + new_wt)`` unless
  ``mean == x`` (keeps constant series exact); then ``old_wt += new_wt`` (adjust) or
  ``old_wt = 1``;
* not started and obs: ``mean = x``;
* output is NaN while ``nobs < min_periods``.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from .jit import kernel
from .stream import PREFETCH_LANES, PREFETCH_ROWS, drain, prefetch_row, stream_row
from .vecmath import div_rn, exp2_nonpos


@njit(forceinline=True)
def _quot(a, b, y, lanes):  # pragma: no cover - numba
    """``a / b`` with ``y = 1 / b`` at hand: the same bits either way.  In a vectorised lane
    loop (``lanes``, a constant at every call site) by Markstein's correction
    (:func:`~scanwise._kernels.vecmath.div_rn`), so that a step costs one division
    however many quotients share its divisor: the divider is what those loops wait on
    (a ``vdivpd`` of 4 lanes per 8 cycles on Intel Golden Cove).  A one-lane loop
    waits on the latency of its chain through the means instead, where a division
    (13-15 cycles) is shorter than the product and four FMAs: it divides.
    """
    return div_rn(a, b, y) if lanes else a / b


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


def cov_fast_path(
    adjust: bool, ignore_na: bool, irregular: bool, bias: bool, root: bool, counted: bool
) -> int:
    """The constant lane loop of :func:`ewm_cov_scan` for these flags: 0, the general
    loop; else ``1 + root + 2 * counted`` (the square root of the standard deviation,
    the observation count for ``min_periods`` and the state)."""
    if not adjust or ignore_na or irregular or bias:
        return 0
    return 1 + int(root) + 2 * int(counted)


def _mean_kernel(fast: int) -> kernel:
    """:func:`ewm_mean_scan` with the lane loop ``fast`` (see :func:`mean_fast_path`)."""

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
        test suite would compile ~100 specialisations (minutes of CI).
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
            if m == 1:
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
            if fast == 0 or m == 1:  # counted
                state[2, o, i0 : i0 + m] = nobs

    ewm_mean_scan.__qualname__ = f"ewm_mean_scan_{fast}"  # one cache entry each
    return kernel(ewm_mean_scan)


# the kernel per ``fast`` value: a closure constant, so numba compiles only that copy of
# the lane loop (constants tested in one kernel would compile all three, 8 s each)
MEAN_KERNELS = tuple(_mean_kernel(fast) for fast in range(3))


@njit(inline="always")
def _moments_step(
    mx, my, c, ow, cx, cy, obs, f, nw0, irregular, adjust, ignore_na, var, lanes
):
    """One pairwise step of the means and a co-moment ``c``, branch-free.

    Returns ``(mx, my, c, ow, nw, upd, decayed)``: ``upd`` says the step was an update of
    a started series with weight ``nw`` (``decayed``: the old weights were scaled by
    ``f``).  ``var``: ``x`` and ``y`` are one series (the variance), whose co-moment
    multiplies by ``1/tot`` (see :func:`_cov_lanes_default`).
    """
    started = mx == mx
    decayed = started & (obs | (not ignore_na))  # bitwise: no branches in the lane loop
    ow = ow * f if decayed else ow
    nw = 1.0 - ow if irregular else nw0
    upd = started & obs
    # the means divide exactly as pandas: ``mx - nmx`` cancels for series far from 0, and
    # an ulp of difference in ``nmx`` would show in the variance at 1e-9
    tot = ow + nw
    y = 1.0 / tot  # every quotient by ``tot`` to the bit from it (:func:`_quot`)
    nmx = mx if mx == cx else _quot(ow * mx + nw * cx, tot, y, lanes)
    nmy = my if my == cy else _quot(ow * my + nw * cy, tot, y, lanes)
    cm = ow * (c + (mx - nmx) * (my - nmy)) + nw * (cx - nmx) * (cy - nmy)
    nc = cm * y if var else _quot(cm, tot, y, lanes)
    first = obs & (not started)
    mx = nmx if upd else (cx if first else mx)
    my = nmy if upd else (cy if first else my)
    c = nc if upd else c
    return mx, my, c, ow, nw, upd, decayed


@njit(inline="always")
def _restart(r, mx, my, c, u, v, ow, n, u0):  # pragma: no cover - numba
    """The seven moments of a cov/corr lane, fresh where ``r`` (a reset step): means NaN,
    co-moment 0, ``u``/``v`` ``u0`` (cov: sum_wt and sum_wt2, 1; corr: the variances, 0),
    weight 1, count 0.  Selects, not branches: the lane loop stays vectorised."""
    return (
        np.nan if r else mx, np.nan if r else my, 0.0 if r else c, u0 if r else u,
        u0 if r else v, 1.0 if r else ow, 0.0 if r else n,
    )


@njit(inline="always")
def _pair_observed(cx, cy, n):  # pragma: no cover - numba
    """Both values finite (pandas treats +-inf as missing), and the count updated."""
    obs = (cx - cx == 0.0) & (cy - cy == 0.0)
    return obs, n + (1.0 if obs else 0.0)


@njit(forceinline=True)
def _cov_step(
    mx, my, c, sw, sw2, ow, n, r, cx, cy, f, ff, nw0, minp, adjust, ignore_na, irregular,
    bias, root, count, var, lanes,
):  # pragma: no cover - numba
    """One step of one lane of :func:`ewm_cov_scan` (``var``: ``cy`` is ``cx``, one mean;
    ``lanes``: called from a vectorised lane loop, see :func:`_quot`).

    Returns the new ``(mx, my, c, sw, sw2, ow, n)`` and the output value."""
    if var:
        my = mx  # the variance: identical means, computed once
    sw = ow if adjust else sw
    n = n if count else 0.0
    mx, my, c, sw, sw2, ow, n = _restart(r, mx, my, c, sw, sw2, ow, n, 1.0)
    obs, n = _pair_observed(cx, cy, n)
    mx, my, c, ow, nw, upd, decayed = _moments_step(
        mx, my, c, ow, cx, cy, obs, f, nw0, irregular, adjust, ignore_na, var, lanes,
    )
    if adjust:  # sum_wt follows old_wt exactly
        ow = ow + nw if upd else ow
        sw = ow
    else:  # renormalise so that old_wt is 1
        sw = sw * f if decayed else sw
        sw = sw + nw if upd else sw
        ow = ow + nw if upd else ow
        sw = sw / ow if upd else sw
    sw2 = sw2 * ff if decayed else sw2
    sw2 = sw2 + nw * nw if upd else sw2
    if not adjust:
        sw2 = sw2 / (ow * ow) if upd else sw2
        ow = 1.0 if upd else ow
    if bias:
        res = c
    else:
        num = sw * sw
        den = num - sw2
        res = num / den * c if den > 0.0 else np.nan
    if root:
        res = np.sqrt(res) if res >= 0.0 else (res if res != res else 0.0)
    if count:
        res = res if n >= minp else np.nan
    elif bias:  # (unbiased: NaN anyway until two observations)
        res = res if mx == mx else np.nan
    return mx, my, c, sw, sw2, ow, n, res


@njit(inline="always")
def _cov_lanes(
    xr, yr, rr, outr, s_mx, s_my, s_c, s_sw, s_sw2, s_ow, s_n, f, nw0, minp,
    adjust, ignore_na, irregular, bias, root, count,
):  # pragma: no cover - numba
    """One time step of a block of lanes of :func:`ewm_cov_scan` (``yr`` None: variance)."""
    ff = f * f
    for j in range(s_mx.size):
        cx = xr[j]
        mx, my, c, sw, sw2, ow, n, res = _cov_step(
            s_mx[j], s_mx[j] if yr is None else s_my[j], s_c[j], s_sw[j], s_sw2[j], s_ow[j],
            s_n[j] if count else 0.0, rr is not None and rr[j], cx,
            cx if yr is None else yr[j], f, ff, nw0, minp, adjust, ignore_na, irregular, bias,
            root, count, yr is None, True,
        )
        s_mx[j] = mx
        if yr is not None:
            s_my[j] = my
        s_c[j] = c
        s_sw[j] = sw  # (unused with adjust; unconditional: no masked store)
        s_sw2[j] = sw2
        s_ow[j] = ow
        if count:
            s_n[j] = n
        outr[j] = res


@njit(forceinline=True)
def _cov_default_step(
    mx, my, c, ow, sw2, n, r, cx, cy, f, ff, minp, var, root, count, lanes,
):  # pragma: no cover - numba
    """One step of one lane of :func:`_cov_lanes_default` (``var``: ``cy`` is ``cx``;
    ``root``: the output is the standard deviation; ``count``: observations are counted
    in ``n``, for ``min_periods`` and the state); returns the new ``(mx, my, c, ow, sw2,
    n)`` and the output value."""
    mx = np.nan if r else mx
    my = np.nan if r else my
    c = 0.0 if r else c
    ow = 0.0 if r else ow
    sw2 = 0.0 if r else sw2
    obs = (cx - cx == 0.0) & (cy - cy == 0.0)
    if count:
        n = (0.0 if r else n) + (1.0 if obs else 0.0)
    ex = mx if mx == mx else cx  # the old mean; a fresh lane's is its observation
    ey = ex if var else (my if my == my else cy)
    ow = ow * f
    sw2 = sw2 * ff
    tot = ow + 1.0
    # pandas' quotients by ``tot`` to the bit, one division per step in lane loops
    y = 1.0 / tot
    nmx = ex if ex == cx else _quot(ow * ex + cx, tot, y, lanes)
    nmy = nmx if var else (ey if ey == cy else _quot(ow * ey + cy, tot, y, lanes))
    dxn = cx - nmx
    dyn = dxn if var else cy - nmy
    dxo = ex - nmx
    dyo = dxo if var else ey - nmy
    cm = ow * (c + dxo * dyo) + dxn * dyn
    # the variance (all terms >= 0) multiplies by the reciprocal: within 2e-15 of
    # pandas' division; a covariance, whose terms may cancel, divides as pandas
    nc = cm * y if var else _quot(cm, tot, y, lanes)
    mx = nmx if obs else mx
    my = nmy if obs else my
    c = nc if obs else c
    ow = tot if obs else ow
    sw2 = sw2 + 1.0 if obs else sw2
    num = ow * ow
    den = num - sw2
    res = num / den * c if den > 0.0 else np.nan
    if root:  # as the general loop (:func:`_cov_step`): pandas' zsqrt
        res = np.sqrt(res) if res >= 0.0 else (res if res != res else 0.0)
    if count:
        res = res if n >= minp else np.nan
    return mx, my, c, ow, sw2, n, res


@njit(inline="always")
def _cov_lanes_default(
    xr, yr, rr, outr, s_mx, s_my, s_c, s_ow, s_sw2, s_n, f, minp, root, count,
):  # pragma: no cover - numba
    """:func:`_cov_lanes` for pandas' defaults (``adjust``, not ``ignore_na``, regular
    steps, unbiased; the count and the square root as constants), in kernel form: a lane
    that has not started carries weights ``ow = sum_wt2 = 0`` (pandas keeps 1), so that
    decaying it changes nothing and its first observation is an ordinary update of the
    pandas formulas, from the observation itself as the old mean: ``(0*x + x) / 1 == x``,
    co-moment ``(0*(0 + 0) + 0) / 1 == 0``, weights ``1``, exactly pandas' first step.
    That drops the ``started``/``first`` selects of the general loop; the bits are the
    same (tested).
    """
    ff = f * f
    for j in range(s_mx.size):
        cx = xr[j]
        mx, my, c, ow, sw2, n, res = _cov_default_step(
            s_mx[j], s_mx[j] if yr is None else s_my[j], s_c[j], s_ow[j], s_sw2[j],
            s_n[j] if count else 0.0, rr is not None and rr[j], cx,
            cx if yr is None else yr[j], f, ff, minp, yr is None, root, count, True,
        )
        # ``+ 0.0``: not a select of the loaded value, which LLVM would turn into a
        # masked store (slow on AMD)
        s_mx[j] = mx + 0.0
        if yr is not None:
            s_my[j] = my + 0.0
        s_c[j] = c + 0.0
        s_ow[j] = ow
        s_sw2[j] = sw2
        if count:
            s_n[j] = n
        outr[j] = res


@njit(forceinline=True)
def _task(k, n_blocks, n_inner, block):  # pragma: no cover - numba
    """Task ``k`` of a time-major EWM kernel: outer index, first lane, lane count."""
    o = k // n_blocks
    i0 = (k - o * n_blocks) * block
    return o, i0, min(n_inner, i0 + block) - i0


@njit(inline="always")
def _chunk(x, y, o, ahead, i0, c0, m):  # pragma: no cover - numba
    """Lanes ``c0 .. c1`` of a task's row (``i0``, ``m`` lanes): asks for the chunk's lines
    of ``x`` (and ``y``) in row ``ahead`` (:func:`~scanwise._kernels.stream.prefetch_row`)
    and returns ``(c1, a0, a1)``, the chunk's end and its lanes in the arrays.  (The
    caller slices: a ``None`` handed back through a tuple would no longer prune the
    ``is None`` branches of the lane loops.)"""
    c1 = min(m, c0 + PREFETCH_LANES)
    a0, a1 = i0 + c0, i0 + c1
    prefetch_row(x[o, ahead, a0:a1])
    if y is not None:
        prefetch_row(y[o, ahead, a0:a1])
    return c1, a0, a1


@njit(inline="always")
def _load_moments(state, o, i0, m):  # pragma: no cover - numba
    """Local copies of the seven state rows of one cov/corr task (separate arrays)."""
    return (
        state[0, o, i0 : i0 + m].copy(),
        state[1, o, i0 : i0 + m].copy(),
        state[2, o, i0 : i0 + m].copy(),
        state[3, o, i0 : i0 + m].copy(),
        state[4, o, i0 : i0 + m].copy(),
        state[5, o, i0 : i0 + m].copy(),
        state[6, o, i0 : i0 + m].copy(),
    )


@njit(inline="always")
def _store_moments(state, o, i0, m, a, b, c, d, e, f, n, counted):  # pragma: no cover
    """Inverse of :func:`_load_moments`; the count only when the loop kept one."""
    state[0, o, i0 : i0 + m] = a
    state[1, o, i0 : i0 + m] = b
    state[2, o, i0 : i0 + m] = c
    state[3, o, i0 : i0 + m] = d
    state[4, o, i0 : i0 + m] = e
    state[5, o, i0 : i0 + m] = f
    if counted:
        state[6, o, i0 : i0 + m] = n


@njit(inline="always")
def _cov_one_lane(
    x, y, factor, reset, out, o, i, s_mx, s_my, s_c, s_sw, s_sw2, s_ow, s_n, nw0, minp,
    adjust, ignore_na, irregular, bias, root,
):  # pragma: no cover - numba
    """The whole time loop of a task of one lane (lane ``i``), its state in registers: the
    row loop's slices and chunks cost more than a step of one lane (a 1-D series ran at
    a third of pandas' speed through them).  Same steps as the lane loop, same bits."""
    mx, my, c, sw = s_mx[0], s_my[0], s_c[0], s_sw[0]
    sw2, ow, n = s_sw2[0], s_ow[0], s_n[0]
    for t in range(x.shape[1]):
        f = factor[t]
        cx = x[o, t, i]
        mx, my, c, sw, sw2, ow, n, out[o, t, i] = _cov_step(
            mx, my, c, sw, sw2, ow, n, reset is not None and reset[o, t, i], cx,
            cx if y is None else y[o, t, i], f, f * f, nw0, minp, adjust, ignore_na,
            irregular, bias, root, True, y is None, False,
        )
    s_mx[0], s_my[0], s_c[0], s_sw[0] = mx, my, c, sw
    s_sw2[0], s_ow[0], s_n[0] = sw2, ow, n


@njit(inline="always")
def _cov_one_lane_default(
    x, y, factor, reset, out, o, i, s_mx, s_my, s_c, s_ow, s_sw2, s_n, minp, root, count,
):  # pragma: no cover - numba
    """:func:`_cov_one_lane` for :func:`_cov_lanes_default` (state in its kernel form)."""
    mx, my, c, ow, sw2, n = s_mx[0], s_my[0], s_c[0], s_ow[0], s_sw2[0], s_n[0]
    for t in range(x.shape[1]):
        f = factor[t]
        cx = x[o, t, i]
        mx, my, c, ow, sw2, n, out[o, t, i] = _cov_default_step(
            mx, my, c, ow, sw2, n, reset is not None and reset[o, t, i], cx,
            cx if y is None else y[o, t, i], f, f * f, minp, y is None, root, count, False,
        )
    s_mx[0], s_my[0], s_c[0], s_ow[0], s_sw2[0], s_n[0] = mx, my, c, ow, sw2, n


@njit(inline="always")
def _corr_one_lane(
    x, y, factor, reset, out, o, i, s_mx, s_my, s_c, s_vx, s_vy, s_ow, s_n, nw0, minp,
    adjust, ignore_na, irregular, count,
):  # pragma: no cover - numba
    """:func:`_cov_one_lane` for :func:`ewm_corr_scan`."""
    mx, my, c, vx = s_mx[0], s_my[0], s_c[0], s_vx[0]
    vy, ow, n = s_vy[0], s_ow[0], s_n[0]
    for t in range(x.shape[1]):
        mx, my, c, vx, vy, ow, n, out[o, t, i] = _corr_step(
            mx, my, c, vx, vy, ow, n, reset is not None and reset[o, t, i], x[o, t, i],
            y[o, t, i], factor[t], nw0, minp, adjust, ignore_na, irregular, count, False,
        )
    s_mx[0], s_my[0], s_c[0], s_vx[0] = mx, my, c, vx
    s_vy[0], s_ow[0], s_n[0] = vy, ow, n


def _cov_kernel(fast: int, one: bool) -> kernel:
    """:func:`ewm_cov_scan` with the lane loop ``fast`` (see :func:`cov_fast_path`), for
    tasks of one lane when ``one``."""

    def ewm_cov_scan(
        x, y, factor, reset, state, out, block, alpha, adjust, ignore_na, irregular, minp,
        bias, root, stream,
    ):  # pragma: no cover - numba
        """EW covariance of ``x`` and ``y`` (variance when ``y is None``; ``root``: its sqrt).

        ``state`` fields: mean_x, mean_y, cov, sum_wt, sum_wt2, old_wt, nobs.  The unbiased
        output is ``cov * sum_wt**2 / (sum_wt**2 - sum_wt2)`` (NaN while that denominator
        is not positive), as pandas.

        With ``adjust`` pandas' ``sum_wt`` and ``old_wt`` take the same values, so only one
        is carried; the variance carries one mean.  ``stream`` writes each output row past
        the cache (:mod:`scanwise._kernels.stream`).  ``fast`` (a closure constant, see
        :func:`cov_fast_path`): ``1``, pandas' defaults for the variance or covariance
        (``adjust``, not ``ignore_na``, unbiased), runs a copy of the lane loop with those
        flags as constants that LLVM folds, in kernel form (:func:`_cov_lanes_default`)
        and without the observation count (the caller then discards the state's
        ``nobs``); ``2``, the same for the standard deviation (a square root per output;
        before, ``ewm_std`` ran the general loop: [1e5, 200] 69-79 ms, now 35-53);
        ``3`` and ``4``, the same two counting observations (``min_periods``,
        ``return_state``; the general loop ran them 2.7x slower); ``0`` tests the flags
        per element and counts.  In cache, one thread:
        1.8–2.3 ns per element on the default loop (variance), 6.5 before (flags
        tested per element, state written under a condition: LLVM turns such stores
        into masked stores, slow on AMD).

        ``one`` (a closure constant; the caller sets it, with ``block == 1``, when time
        is the fast axis or the inner axis has a few lanes:
        :func:`scanwise._layout.one_lane_tasks`; compiled for the strided layout
        only): every task is one lane, scanned by :func:`_cov_one_lane` with its state
        in registers, without the row loop's slices and chunks, which cost more than a
        step of one lane (1-D [1e6] variance: 21.8 ms, 0.45x pandas, through the row
        loop; 8.4 ms in registers).  A separate kernel rather than a branch on the
        task's width: it compiles only for inputs that need it (both loops in one kernel
        doubled its compile time).  The steps and bits are those of the lane loops
        (tested).
        """
        n_outer, n_t, n_inner = out.shape
        n_blocks = (n_inner + block - 1) // block
        nw0 = 1.0 if adjust else alpha
        for k in prange(n_outer * n_blocks):
            o, i0, m = _task(k, n_blocks, n_inner, block)
            s_mx, s_my, s_c, s_sw, s_sw2, s_ow, s_n = _load_moments(state, o, i0, m)
            if fast >= 1:  # kernel form: a lane that has not started weighs 0
                for j in range(m):
                    fresh = s_mx[j] != s_mx[j]
                    s_ow[j] = 0.0 if fresh else s_ow[j]
                    s_sw2[j] = 0.0 if fresh else s_sw2[j]
            if one:  # tasks of one lane (a closure constant: see the kernel's doc)
                if fast >= 1:
                    _cov_one_lane_default(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c,
                                          s_ow, s_sw2, s_n, minp, fast % 2 == 0, fast >= 3)
                else:
                    _cov_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_sw,
                                  s_sw2, s_ow, s_n, nw0, minp, adjust, ignore_na, irregular,
                                  bias, root)
            else:
                row = np.empty(m, dtype=out.dtype)
                for t in range(n_t):
                    f = factor[t]
                    ahead = min(t + PREFETCH_ROWS, n_t - 1)
                    outr = out[o, t, i0 : i0 + m]
                    dst = row if stream else outr
                    for c0 in range(0, m, PREFETCH_LANES):  # as in ewm_mean_scan
                        c1, a0, a1 = _chunk(x, y, o, ahead, i0, c0, m)
                        xr = x[o, t, a0:a1]
                        yr = y[o, t, a0:a1] if y is not None else None
                        rr = reset[o, t, a0:a1] if reset is not None else None
                        d, mx, my, c = dst[c0:c1], s_mx[c0:c1], s_my[c0:c1], s_c[c0:c1]
                        ow, sw2 = s_ow[c0:c1], s_sw2[c0:c1]
                        if fast >= 1:
                            _cov_lanes_default(xr, yr, rr, d, mx, my, c, ow, sw2, s_n[c0:c1],
                                               f, minp, fast % 2 == 0, fast >= 3)
                        else:
                            _cov_lanes(xr, yr, rr, d, mx, my, c, s_sw[c0:c1], sw2, ow, s_n[c0:c1],
                                       f, nw0, minp, adjust, ignore_na, irregular, bias, root, True)
                    if stream:
                        stream_row(outr, row)
                drain(stream)
            if fast >= 1:  # back to pandas' form
                for j in range(m):
                    fresh = s_mx[j] != s_mx[j]
                    s_ow[j] = 1.0 if fresh else s_ow[j]
                    s_sw2[j] = 1.0 if fresh else s_sw2[j]
            _store_moments(state, o, i0, m, s_mx, s_mx if y is None else s_my, s_c,
                           s_ow if adjust else s_sw, s_sw2, s_ow, s_n, fast == 0 or fast >= 3)

    ewm_cov_scan.__qualname__ = f"ewm_cov_scan_{fast}{'_one' if one else ''}"
    return kernel(ewm_cov_scan, layout="A" if one else None)


# ``COV_KERNELS[one][fast]``: compiled only when used
COV_KERNELS = tuple(tuple(_cov_kernel(fast, one) for fast in range(5)) for one in (False, True))


@njit(forceinline=True)
def _corr_step(
    mx, my, c, vx, vy, ow, n, r, cx, cy, f, nw0, minp, adjust, ignore_na, irregular, count,
    lanes,
):  # pragma: no cover - numba
    """One step of one lane of :func:`ewm_corr_scan`; returns the new ``(mx, my, c, vx,
    vy, ow, n)`` and the output value (``lanes``: see :func:`_quot`)."""
    n = n if count else 0.0
    mx, my, c, vx, vy, ow, n = _restart(r, mx, my, c, vx, vy, ow, n, 0.0)
    obs, n = _pair_observed(cx, cy, n)
    omx = mx
    omy = my
    mx, my, c, ow, nw, upd, _decayed = _moments_step(
        mx, my, c, ow, cx, cy, obs, f, nw0, irregular, adjust, ignore_na, False, lanes,
    )
    tot = ow + nw
    y = 1.0 / tot  # (the same division as in _moments_step: LLVM computes it once)
    ex = omx - mx
    ey = omy - my
    dx = cx - mx
    dy = cy - my
    vx = _quot(ow * (vx + ex * ex) + nw * dx * dx, tot, y, lanes) if upd else vx
    vy = _quot(ow * (vy + ey * ey) + nw * dy * dy, tot, y, lanes) if upd else vy
    ow = (tot if adjust else 1.0) if upd else ow
    p = vx * vy
    q = np.sqrt(p) if p >= 0.0 else (p if p != p else 0.0)
    res = c / q
    if count:
        res = res if n >= minp else np.nan
    else:  # minp <= 1: NaN before the first observation anyway (mean NaN, 0/0)
        res = res if mx == mx else np.nan
    return mx, my, c, vx, vy, ow, n, res


@njit(inline="always")
def _corr_lanes(
    xr, yr, rr, outr, s_mx, s_my, s_c, s_vx, s_vy, s_ow, s_n, f, nw0, minp,
    adjust, ignore_na, irregular, count,
):  # pragma: no cover - numba
    """One time step of a block of lanes of :func:`ewm_corr_scan`."""
    for j in range(s_mx.size):
        mx, my, c, vx, vy, ow, n, res = _corr_step(
            s_mx[j], s_my[j], s_c[j], s_vx[j], s_vy[j], s_ow[j], s_n[j] if count else 0.0,
            rr is not None and rr[j], xr[j], yr[j], f, nw0, minp, adjust, ignore_na,
            irregular, count, True,
        )
        # ``+ 0.0``: no select of a loaded value (a masked store, see _mean_lanes)
        s_mx[j] = mx + 0.0
        s_my[j] = my + 0.0
        s_c[j] = c + 0.0
        s_vx[j] = vx + 0.0
        s_vy[j] = vy + 0.0
        s_ow[j] = ow + 0.0
        if count:
            s_n[j] = n
        outr[j] = res


def corr_fast_path(adjust: bool, ignore_na: bool, irregular: bool, counted: bool) -> int:
    """The constant lane loop of :func:`ewm_corr_scan` for these flags (0: none)."""
    return 0 if not adjust or ignore_na or irregular or counted else 1


def _corr_kernel(fast: int, one: bool) -> kernel:
    """:func:`ewm_corr_scan` with the lane loop ``fast`` (see :func:`corr_fast_path`), for
    tasks of one lane when ``one``."""

    def ewm_corr_scan(
        x, y, factor, reset, state, out, block, alpha, adjust, ignore_na, irregular, minp,
        stream,
    ):  # pragma: no cover - numba
        """EW correlation ``cov / sqrt(var_x * var_y)`` on pairwise-complete observations.

        All three moments are the biased ones, as pandas; ``sqrt`` of a negative is 0.
        ``state`` fields: mean_x, mean_y, cov, var_x, var_y, old_wt, nobs.  ``fast == 1``
        (pandas' defaults: ``adjust``, not ``ignore_na``, regular steps, no count; a
        closure constant) runs the lane loop with those flags as constants, ``0`` tests
        them per element and counts, as :func:`ewm_cov_scan`; ``one``: tasks of one
        lane, as there (:func:`_corr_one_lane`; 1-D [1e6]: 13.6 ms, 45 ms before).
        """
        n_outer, n_t, n_inner = out.shape
        n_blocks = (n_inner + block - 1) // block
        nw0 = 1.0 if adjust else alpha
        for k in prange(n_outer * n_blocks):
            o, i0, m = _task(k, n_blocks, n_inner, block)
            s_mx, s_my, s_c, s_vx, s_vy, s_ow, s_n = _load_moments(state, o, i0, m)
            if one:  # tasks of one lane (a closure constant: see the kernel's doc)
                if fast == 1:
                    _corr_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_vx,
                                   s_vy, s_ow, s_n, 1.0, minp, True, False, False, False)
                else:
                    _corr_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_vx,
                                   s_vy, s_ow, s_n, nw0, minp, adjust, ignore_na, irregular,
                                   True)
            else:
                row = np.empty(m, dtype=out.dtype)
                for t in range(n_t):
                    f = factor[t]
                    ahead = min(t + PREFETCH_ROWS, n_t - 1)
                    outr = out[o, t, i0 : i0 + m]
                    dst = row if stream else outr
                    for c0 in range(0, m, PREFETCH_LANES):  # as in ewm_mean_scan
                        c1, a0, a1 = _chunk(x, y, o, ahead, i0, c0, m)
                        xr, yr = x[o, t, a0:a1], y[o, t, a0:a1]
                        rr = reset[o, t, a0:a1] if reset is not None else None
                        d, mx, my, c = dst[c0:c1], s_mx[c0:c1], s_my[c0:c1], s_c[c0:c1]
                        vx, vy, ow, n = s_vx[c0:c1], s_vy[c0:c1], s_ow[c0:c1], s_n[c0:c1]
                        if fast == 1:
                            _corr_lanes(xr, yr, rr, d, mx, my, c, vx, vy, ow, n, f, 1.0, minp,
                                        True, False, False, False)
                        else:
                            _corr_lanes(xr, yr, rr, d, mx, my, c, vx, vy, ow, n, f, nw0, minp,
                                        adjust, ignore_na, irregular, True)
                    if stream:
                        stream_row(outr, row)
                drain(stream)
            _store_moments(state, o, i0, m, s_mx, s_my, s_c, s_vx, s_vy, s_ow, s_n, fast == 0)

    ewm_corr_scan.__qualname__ = f"ewm_corr_scan_{fast}{'_one' if one else ''}"
    return kernel(ewm_corr_scan, layout="A" if one else None)


CORR_KERNELS = tuple(tuple(_corr_kernel(fast, one) for fast in range(2)) for one in (False, True))


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
