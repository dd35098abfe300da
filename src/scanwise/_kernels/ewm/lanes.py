"""Per-lane helpers shared by the EWM kernels: the division rule, task and prefetch-chunk
bounds, and the moment updates (pandas' ``ewmcov``) that cov and corr both step."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..access import lane
from ..stream import PREFETCH_LANES, prefetch_row
from ..vecmath import div_rn


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


#: time steps per staged tile: a tile of ``TILE`` steps by a task's lanes (at most 32)
#: of each operand stays in L1/L2 while the vectorised lane loop runs over it
TILE = 64


@njit(inline="always")
def _load_tile(src, dst, o, t0, nt, i0, m):  # pragma: no cover - numba
    """``dst[:nt, :m] = src[o, t0:t0 + nt, i0:i0 + m]``, lane by lane: a lane of a
    time-fast array (an F-ordered array, a DataFrame) is read as a contiguous run."""
    for j in range(m):
        for tt in range(nt):
            dst[tt, j] = src[o, lane(src, t0, tt), lane(src, i0, j)]


@njit(inline="always")
def _tiles(m, dtype):  # pragma: no cover - numba
    """A task's tile buffers: ``x``, ``y``, ``reset`` and the output, ``TILE`` by ``m``."""
    shape = (TILE, m)
    return (np.empty(shape, dtype=dtype), np.empty(shape, dtype=dtype),
            np.empty(shape, dtype=np.bool_), np.empty(shape, dtype=dtype))


@njit(inline="always")
def _load_tiles(x, y, reset, xs, ys, rs, o, t0, nt, i0, m):  # pragma: no cover - numba
    """The tiles of ``x`` and, where given, ``y`` and ``reset`` (:func:`_load_tile`)."""
    _load_tile(x, xs, o, t0, nt, i0, m)
    if y is not None:
        _load_tile(y, ys, o, t0, nt, i0, m)
    if reset is not None:
        _load_tile(reset, rs, o, t0, nt, i0, m)


@njit(inline="always")
def _store_tile(dst, src, o, t0, nt, i0, m):  # pragma: no cover - numba
    """``dst[o, t0:t0 + nt, i0:i0 + m] = src[:nt, :m]``, lane by lane."""
    for j in range(m):
        for tt in range(nt):
            dst[o, lane(dst, t0, tt), lane(dst, i0, j)] = src[tt, j]


#: kernel name suffix per task shape (mode 0 rows, 1 one lane, 2 staged): one cache entry each
_MODE_SUFFIX = ("", "_one", "_staged")
