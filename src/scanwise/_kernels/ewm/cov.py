"""Exponentially weighted variance, standard deviation and covariance (pandas'
``ewmcov``): moments carried per lane, bias-corrected at the output."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..jit import kernel
from ..stream import PREFETCH_LANES, PREFETCH_ROWS, drain, stream_row
from .lanes import (
    _MODE_SUFFIX,
    TILE,
    _chunk,
    _load_moments,
    _load_tiles,
    _moments_step,
    _pair_observed,
    _quot,
    _restart,
    _store_moments,
    _store_tile,
    _task,
    _tiles,
)


def cov_fast_path(
    adjust: bool, ignore_na: bool, irregular: bool, bias: bool, root: bool, counted: bool
) -> int:
    """The constant lane loop of :func:`ewm_cov_scan` for these flags: 0, the general
    loop; else ``1 + root + 2 * counted`` (the square root of the standard deviation,
    the observation count for ``min_periods`` and the state)."""
    if not adjust or ignore_na or irregular or bias:
        return 0
    return 1 + int(root) + 2 * int(counted)


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


def _cov_kernel(fast: int, mode: int) -> kernel:
    """:func:`ewm_cov_scan` with the lane loop ``fast`` (see :func:`cov_fast_path`), for
    the task shape ``mode``: 0 rows of lanes, 1 one lane, 2 staged lanes."""

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

        ``mode`` (a closure constant for ``one``: 0 rows, 1 one lane, 2 staged): staged
        tasks serve strided layouts with many lanes (an F-ordered array, a DataFrame, a
        column slice): each task copies a tile of ``TILE`` steps of its lanes into small
        C-contiguous buffers (:func:`_load_tile`), runs the vectorised lane loop over the
        tile's rows and copies the outputs back (:func:`_store_tile`): the lane loop
        typed for strided rows does not vectorise, and one-lane tasks run one division
        chain each.
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
            if mode == 1:  # tasks of one lane (a closure constant: see the kernel's doc)
                if fast >= 1:
                    _cov_one_lane_default(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c,
                                          s_ow, s_sw2, s_n, minp, fast % 2 == 0, fast >= 3)
                else:
                    _cov_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_sw,
                                  s_sw2, s_ow, s_n, nw0, minp, adjust, ignore_na, irregular,
                                  bias, root)
            elif mode == 2:  # staged lanes (see the kernel's doc)
                xs, ys, rs, os = _tiles(m, out.dtype)
                for t0 in range(0, n_t, TILE):
                    nt = min(TILE, n_t - t0)
                    _load_tiles(x, y, reset, xs, ys, rs, o, t0, nt, i0, m)
                    for tt in range(nt):
                        f = factor[t0 + tt]
                        xr = xs[tt]
                        yr = ys[tt] if y is not None else None
                        rr = rs[tt] if reset is not None else None
                        if fast >= 1:
                            _cov_lanes_default(xr, yr, rr, os[tt], s_mx, s_my, s_c, s_ow, s_sw2,
                                               s_n, f, minp, fast % 2 == 0, fast >= 3)
                        else:
                            _cov_lanes(xr, yr, rr, os[tt], s_mx, s_my, s_c, s_sw, s_sw2, s_ow,
                                       s_n, f, nw0, minp, adjust, ignore_na, irregular, bias,
                                       root, True)
                    _store_tile(out, os, o, t0, nt, i0, m)
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

    ewm_cov_scan.__qualname__ = f"ewm_cov_scan_{fast}{_MODE_SUFFIX[mode]}"
    return kernel(ewm_cov_scan, layout="A" if mode else None)


# ``COV_KERNELS[mode][fast]`` (mode 0 rows, 1 one lane, 2 staged): compiled only when used
COV_KERNELS = tuple(tuple(_cov_kernel(fast, mode) for fast in range(5)) for mode in range(3))
