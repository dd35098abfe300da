"""Element access that treats a scalar as an array broadcast everywhere.

``at(x, o, t, i)`` returns ``x[o, t, i]`` for a 3-D array and ``x`` itself for a
number.  Passing a scalar (``a = 1`` for cumsum, a constant discount) instead of a
stride-0 array keeps the inner loop free of a load that defeats vectorisation.
"""

from __future__ import annotations

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
