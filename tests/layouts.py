"""Hypothesis strategies: arrays of awkward shapes in awkward memory layouts."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

SIZES = st.sampled_from([0, 1, 2, 3, 5, 7, 17, 63])


@st.composite
def shapes(draw, min_dims=1, max_dims=3):
    nd = draw(st.integers(min_dims, max_dims))
    return tuple(draw(SIZES) for _ in range(nd))


def relayout(arr: np.ndarray, how: str) -> np.ndarray:
    """Same values, different memory layout."""
    if how == "C":
        return np.ascontiguousarray(arr)
    if how == "F":
        return np.asfortranarray(arr)
    if how == "reversed":  # negative strides on every axis
        big = np.ascontiguousarray(arr[(slice(None, None, -1),) * arr.ndim])
        return big[(slice(None, None, -1),) * arr.ndim]
    if how == "strided":  # a view with steps of 2 on every axis
        big = np.zeros(tuple(2 * s for s in arr.shape), dtype=arr.dtype)
        view = big[(slice(None, None, 2),) * arr.ndim]
        view[...] = arr
        return view
    if how == "transposed":
        return np.ascontiguousarray(arr.T).T
    raise ValueError(how)


LAYOUTS = st.sampled_from(["C", "F", "reversed", "strided", "transposed"])


def values(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(0 if dtype.kind == "u" else -5, 6, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)
