"""Element access that treats a scalar as an array broadcast everywhere.

``at(x, o, t, i)`` returns ``x[o, t, i]`` for a 3-D array and ``x`` itself for a
number.  Passing a scalar (``a = 1`` for cumsum, a constant discount) instead of a
stride-0 array keeps the inner loop free of a load that defeats vectorisation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
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


@njit(forceinline=True)
def lane(i0, j):  # pragma: no cover - numba
    """The array index ``i0 + j`` (both non-negative) as an unsigned integer.

    numba wraps a negative signed index around (``x[-1]``): a compare and a select on
    every access whose index LLVM cannot prove non-negative, such as ``i0 + j`` for a
    task's first lane ``i0``.  The select makes the address non-affine, and LLVM then
    leaves the lane loop scalar ("unsafe indirect dependence"); an unsigned index has
    no wraparound.  Only for indices known to lie in the array.
    """
    return np.uint64(i0 + j)
