"""The carry law: how two steps of ``h -> a * h + b`` compose.

Applying ``(a1, b1)`` and then ``(a2, b2)`` is the single affine map

    (a1, b1) then (a2, b2)  ==  (a2 * a1,  a2 * b1 + b2)

(Blelloch 1993, "Prefix sums and their applications", section 1.4.1).  The law is
associative, which is what lets a long series be cut anywhere: threads over time chunks
(:mod:`scanwise._kernels.scans.linear_chunked`), streaming calls that pass the
final state on through ``initial=``, and Dask chunks.  It is written once, here, and
jitted so that kernels inline it; it is also callable from Python.

A *restart* (the first step of a series, or a ``reset``) replaces the incoming state
instead of scaling it.  Writing it as ``a = 0`` would be wrong in floating point
(``0 * inf`` and ``0 * nan`` are NaN, so a NaN before a reset would leak through it),
so a map carries a restart flag ``r``: ``(r, a, b)`` means ``h -> b`` if ``r`` else
``h -> a * h + b``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(forceinline=True)
def compose(r1, a1, b1, r2, a2, b2):  # pragma: no cover - inlined by numba
    """Return ``(r, A, B)``: the map "``(r1, a1, b1)`` then ``(r2, a2, b2)``"."""
    if r2:
        return True, a2, b2
    return r1, a2 * a1, a2 * b1 + b2


@njit(forceinline=True)
def apply(r, a, b, h):  # pragma: no cover - inlined by numba
    """Apply the map ``(r, a, b)`` to the state ``h``."""
    if r:
        return b
    return a * h + b


def apply_summary(kind: str, summary: np.ndarray, h_in: np.ndarray | None, axis: int) -> np.ndarray:
    """:func:`apply` for whole arrays of chunk summaries (the Dask carry pass).

    ``summary`` stacks ``(r, A, B)`` along ``axis`` (length 3).  ``kind`` ``"linear"``:
    ``B`` if ``r`` else ``A * h_in + B``; ``"logaddexp"`` (the log-space law):
    ``B`` if ``r`` else ``logaddexp(h_in, B)``.  ``h_in`` None (nothing carried in) gives ``B``.
    """
    take = [(slice(None),) * axis + (slice(k, k + 1),) for k in range(3)]
    r, a, b = (summary[t] for t in take)
    if h_in is None:
        return b
    moved = a * h_in + b if kind == "linear" else quiet_logaddexp(h_in, b)
    return np.where(r != 0, b, moved)


def quiet_logaddexp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.logaddexp`` without NumPy's 'invalid value' warning for NaN inputs: a NaN
    propagates, as in the kernels (which do not warn), whatever the scheduler."""
    with np.errstate(invalid="ignore"):
        return np.logaddexp(x, y)
