"""Element access that treats a scalar as an array broadcast everywhere.

``at(x, o, t, i)`` returns ``x[o, t, i]`` for a 3-D array and ``x`` itself for a
number.  Passing a scalar (``a = 1`` for cumsum, a constant discount) instead of a
stride-0 array keeps the inner loop free of a load that defeats vectorisation.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload


def at(x, o, t, i):  # pragma: no cover - only called inside jitted code
    raise NotImplementedError("at() is only usable from numba-compiled code")


@overload(at, inline="always")
def _at_overload(x, o, t, i):
    if isinstance(x, types.Array):

        def impl(x, o, t, i):
            return x[o, t, i]

        return impl

    def impl_scalar(x, o, t, i):
        return x

    return impl_scalar


def lane(x, i0, j):  # pragma: no cover - only called inside jitted code
    """The index ``i0 + j`` (both non-negative) of an inner-axis element of ``x``:
    unsigned where ``x`` is typed C-contiguous, a plain integer otherwise.

    numba wraps a negative signed index around (``x[-1]``): a compare and a select on
    every access whose index LLVM cannot prove non-negative, such as ``i0 + j`` for a
    task's first lane ``i0``.  The select makes the address non-affine, and LLVM then
    leaves the lane loop scalar ("unsafe indirect dependence"); an unsigned index has
    no wraparound, and the loop over neighbouring lanes vectorises.  Strided ('A')
    kernels keep the signed index on purpose: vectorised, their lane loop became
    gathers, slower than scalar code (logcumsumexp of an F-ordered [1e5, 200]: 149 ms
    against 81).  Only for indices known to lie in the array.
    """
    raise NotImplementedError("lane() is only usable from numba-compiled code")


@overload(lane, inline="always")
def _lane_overload(x, i0, j):
    if isinstance(x, types.Array) and x.layout == "C":
        return lambda x, i0, j: np.uint64(i0 + j)
    return lambda x, i0, j: i0 + j
