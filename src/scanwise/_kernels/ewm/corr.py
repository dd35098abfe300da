"""Exponentially weighted correlation: both variances and the covariance carried per
lane in one pass (pandas computes three ``ewmcov`` calls)."""

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


def _corr_kernel(fast: int, mode: int) -> kernel:
    """:func:`ewm_corr_scan` with the lane loop ``fast`` (see :func:`corr_fast_path`), for
    the task shape ``mode``: 0 rows of lanes, 1 one lane, 2 staged lanes."""

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
        lane, as there (:func:`_corr_one_lane`; 1-D [1e6]: 13.6 ms, 45 ms before);
        ``mode == 2``: staged lanes, as :func:`ewm_cov_scan`.
        """
        n_outer, n_t, n_inner = out.shape
        n_blocks = (n_inner + block - 1) // block
        nw0 = 1.0 if adjust else alpha
        for k in prange(n_outer * n_blocks):
            o, i0, m = _task(k, n_blocks, n_inner, block)
            s_mx, s_my, s_c, s_vx, s_vy, s_ow, s_n = _load_moments(state, o, i0, m)
            if mode == 1:  # tasks of one lane (a closure constant: see the kernel's doc)
                if fast == 1:
                    _corr_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_vx,
                                   s_vy, s_ow, s_n, 1.0, minp, True, False, False, False)
                else:
                    _corr_one_lane(x, y, factor, reset, out, o, i0, s_mx, s_my, s_c, s_vx,
                                   s_vy, s_ow, s_n, nw0, minp, adjust, ignore_na, irregular,
                                   True)
            elif mode == 2:  # staged lanes (see ewm_cov_scan)
                xs, ys, rs, os = _tiles(m, out.dtype)
                for t0 in range(0, n_t, TILE):
                    nt = min(TILE, n_t - t0)
                    _load_tiles(x, y, reset, xs, ys, rs, o, t0, nt, i0, m)
                    for tt in range(nt):
                        f = factor[t0 + tt]
                        rr = rs[tt] if reset is not None else None
                        if fast == 1:
                            _corr_lanes(xs[tt], ys[tt], rr, os[tt], s_mx, s_my, s_c, s_vx, s_vy,
                                        s_ow, s_n, f, 1.0, minp, True, False, False, False)
                        else:
                            _corr_lanes(xs[tt], ys[tt], rr, os[tt], s_mx, s_my, s_c, s_vx, s_vy,
                                        s_ow, s_n, f, nw0, minp, adjust, ignore_na, irregular,
                                        True)
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

    ewm_corr_scan.__qualname__ = f"ewm_corr_scan_{fast}{_MODE_SUFFIX[mode]}"
    return kernel(ewm_corr_scan, layout="A" if mode else None)


# ``CORR_KERNELS[mode][fast]`` as ``COV_KERNELS``
CORR_KERNELS = tuple(tuple(_corr_kernel(fast, mode) for fast in range(2)) for mode in range(3))
