"""Numba kernels. They compute on the canonical ``(outer, T, inner)`` layout only.

No argument checking and no allocation policy lives here: the layout layer
(:mod:`scanwise._layout`) hands every kernel arrays of the right shape and dtype.
Kernels are compiled lazily on first call and cached on disk (``cache=True``).
"""
