"""Layout: map N-d operands plus a scan axis onto canonical ``(outer, T, inner)`` views.

Given operands already broadcast to one shape, the axes other than the scan axis are
ordered by the output's strides (largest first) and neighbours are merged wherever the
merge is a pure reinterpretation for *every* operand (as NumPy's iterator coalesces).
The last merged group becomes ``inner``, the one before it ``outer``; any further groups
(rare, e.g. three non-mergeable sliced axes) are looped over here, in Python.  Nothing
is copied.  ``reverse`` flips the scan axis of every view (negative strides), so the
kernels only ever run forward.

Kernel choice (by shape and strides only, never by the thread count):

* ``inner`` contiguous: time-major, the inner loop vectorised across lanes;
* otherwise (time is the fast axis): row-wise, four series share the time loop so four
  independent dependency chains are in flight;
* at most ``CHUNKED_MAX_SERIES`` series of length >= ``CHUNKED_MIN_T`` (linear op only):
  reduce-then-scan over fixed chunks of ``CHUNK`` steps, parallel over chunks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHUNKED_MIN_T = 1 << 17
CHUNKED_MAX_SERIES = 4
CHUNK = 1 << 14
VECTOR_BLOCK = 512
SEGMENT_BYTES = 8192
STREAM_MIN_BYTES = 16 << 20


def _groups(shape: Sequence[int], axis: int, arrays: Sequence[np.ndarray]) -> list[list[int]]:
    ref = arrays[0]
    dims = [d for d in range(len(shape)) if d != axis and shape[d] != 1]
    dims.sort(key=lambda d: abs(ref.strides[d]), reverse=True)
    groups: list[list[int]] = []
    for d in dims:
        if groups:
            last = groups[-1][-1]
            if all(arr.strides[last] == arr.strides[d] * shape[d] for arr in arrays):
                groups[-1].append(d)
                continue
        groups.append([d])
    return groups


def canonical(
    shape: Sequence[int], axis: int, arrays: Sequence[np.ndarray | None], writeable: int = 1
) -> Iterator[list[np.ndarray | None]]:
    """Yield lists of 3-D ``(outer, T, inner)`` views, one per leftover leading index.

    ``arrays[0]`` is the output; it and the next ``writeable - 1`` arrays get writeable
    views.  ``None`` entries pass through.
    """
    present = [a for a in arrays if a is not None]
    groups = _groups(shape, axis, present)
    while len(groups) < 2:
        groups.insert(0, [])
    lead, (outer, inner) = groups[:-2], groups[-2:]
    lead_shape = tuple(math.prod(shape[d] for d in g) for g in lead)
    n_outer = math.prod(shape[d] for d in outer)
    n_inner = math.prod(shape[d] for d in inner)
    views: list[np.ndarray | None] = []
    for k, arr in enumerate(arrays):
        if arr is None:
            views.append(None)
            continue

        def stride(g: list[int], arr: np.ndarray = arr) -> int:
            return arr.strides[g[-1]] if g else 0

        views.append(
            as_strided(
                arr,
                shape=lead_shape + (n_outer, shape[axis], n_inner),
                strides=tuple(stride(g) for g in lead)
                + (stride(outer), arr.strides[axis], stride(inner)),
                writeable=k < writeable,
            )
        )
    for idx in np.ndindex(*lead_shape):
        yield [None if v is None else v[idx] for v in views]


def time_major(out3: np.ndarray) -> bool:
    """Vectorise across lanes when the inner axis is contiguous, else scan row-wise."""
    return out3.shape[2] > 1 and abs(out3.strides[2]) == out3.itemsize


def inner_block(out3: np.ndarray) -> int:
    """Lanes per task for the memory-bound time-major kernels (the linear scan).

    Even blocks of at least ``SEGMENT_BYTES`` per row: each task then reads and writes
    runs of whole pages per time step, which the hardware prefetcher streams (measured on
    [1e5, 1000] float64 cumsum: one 1000-lane task 0.078-0.085 s, two 504-lane tasks
    0.088-0.11 s, against 0.062-0.069 s for ``np.copyto``).  Wide rows still split into
    many tasks.  Depends on the shape only.
    """
    n_inner = out3.shape[2]
    n_blocks = max(1, n_inner * out3.itemsize // SEGMENT_BYTES)
    return max(1, -(-n_inner // n_blocks))


def streaming(out3: np.ndarray) -> bool:
    """Write ``out3`` with non-temporal stores (:mod:`scanwise._kernels.stream`)?

    Only when it is much larger than the cache (so nothing is lost by not caching it) and
    the kernels write runs of neighbouring elements: a contiguous inner axis (time-major)
    or, for a single lane, a contiguous time axis.
    """
    if out3.nbytes < STREAM_MIN_BYTES:
        return False
    _, _, n_inner = out3.shape
    if n_inner > 1:  # rows are streamed as vectors: ascending addresses only
        return out3.strides[2] == out3.itemsize
    return abs(out3.strides[1]) == out3.itemsize  # element by element


def lane_block(out3: np.ndarray, n_threads: int, min_lanes: int = 64) -> int:
    """Lanes per task for the stateful (EWM) kernels.

    Time-major: blocks as wide as possible (long contiguous runs per row are what the
    hardware prefetcher streams well; at most ``VECTOR_BLOCK``), split further to give
    every thread work only down to ``min_lanes`` lanes per block; a multiple of 8 lanes
    (whole cache lines).  The EWM kernels prefetch their next rows
    (:func:`scanwise._kernels.stream.prefetch_row`), so narrow blocks cost little and
    both the mean and the variance split down to 64 lanes (measured on [1e5, 200]
    float64, ``bench_ewm.py``: mean 11–18 ms for two 104-lane blocks vs 17–21 ms for one
    200-lane block; variance 20–33 ms vs 36–46 ms; without the prefetch the mean was 34
    ms vs 21 ms, so it kept rows whole up to 512 lanes).  Row-wise: 8 series per
    task, eight dependency chains in flight.  Results never depend on the block (each
    lane is scanned by one thread, in order), so the thread count only affects speed.
    """
    if not time_major(out3):
        return 8
    n_outer, _, n_inner = out3.shape
    n_blocks = max(
        -(-n_inner // VECTOR_BLOCK), min(-(-n_threads // n_outer), n_inner // min_lanes)
    )
    block = -(-n_inner // max(1, n_blocks))
    return -(-block // 8) * 8


def use_chunked(out3: np.ndarray) -> bool:
    """Reduce-then-scan pays off for a few long series only."""
    n_outer, n_t, n_inner = out3.shape
    return n_outer * n_inner <= CHUNKED_MAX_SERIES and n_t >= CHUNKED_MIN_T


def flip(arr: np.ndarray | None, axis: int) -> np.ndarray | None:
    return None if arr is None else np.flip(arr, axis)
