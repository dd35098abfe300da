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

The thread count only sizes the work (lanes per block, :func:`lane_block`); every lane
takes the same steps whatever the block, so results never depend on it (tested).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHUNKED_MIN_T = 1 << 17
CHUNKED_MAX_SERIES = 4
CHUNK = 1 << 14
VECTOR_BLOCK = 512
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


class Plan(NamedTuple):
    """How the axes of a scan's operands map onto canonical ``(outer, T, inner)`` views."""

    axis: int
    lead: tuple[tuple[int, ...], ...]  # groups looped over in Python (usually none)
    outer: tuple[int, ...]
    inner: tuple[int, ...]
    lead_shape: tuple[int, ...]
    n_outer: int
    n_inner: int

    # the axes in view order: size-1 axes first (they vanish), then lead, outer, the
    # scan axis, inner
    order: tuple[int, ...]


def plan(shape: Sequence[int], axis: int, arrays: Sequence[np.ndarray | None]) -> Plan:
    """The :class:`Plan` for operands of ``shape`` (merges valid for every operand)."""
    present = [a for a in arrays if a is not None]
    if all(a.flags.c_contiguous for a in present):
        return _contiguous_plan(tuple(shape), axis)
    return _plan(shape, axis, _groups(shape, axis, present))


@functools.lru_cache(maxsize=256)
def _contiguous_plan(shape: tuple[int, ...], axis: int) -> Plan:
    """The usual case, without the stride sort (and cached: a small call's plan cost as
    much as its kernel): axes before ``axis`` merge into ``outer``, those after it into
    ``inner``, a valid plan for every C-contiguous operand."""
    before = [d for d in range(axis) if shape[d] != 1]
    after = [d for d in range(axis + 1, len(shape)) if shape[d] != 1]
    return _plan(shape, axis, [g for g in (before, after) if g])  # a lone group is inner


def _plan(shape: Sequence[int], axis: int, groups: list[list[int]]) -> Plan:
    while len(groups) < 2:
        groups.insert(0, [])
    lead, (outer, inner) = groups[:-2], groups[-2:]
    used = [d for g in groups for d in g]
    ones = [d for d in range(len(shape)) if d != axis and d not in used]
    return Plan(
        axis,
        tuple(tuple(g) for g in lead),
        tuple(outer),
        tuple(inner),
        tuple(math.prod(shape[d] for d in g) for g in lead),
        math.prod(shape[d] for d in outer),
        math.prod(shape[d] for d in inner),
        (*ones, *(d for g in lead for d in g), *outer, axis, *inner),
    )


# ``reshape(copy=False)`` (NumPy >= 2.1) refuses to copy; older NumPy builds the views
# with ``as_strided`` (about 4 us each against 0.5 us: small calls are dominated by it)
_NO_COPY_RESHAPE = np.lib.NumpyVersion(np.__version__) >= "2.1.0"


def view(arr: np.ndarray, p: Plan, writeable: bool = True) -> np.ndarray:
    """``arr`` as a ``(*lead_shape, outer, T, inner)`` view (never a copy)."""
    shape = arr.shape
    full = p.lead_shape + (p.n_outer, shape[p.axis], p.n_inner)
    if _NO_COPY_RESHAPE:
        try:
            v = arr.transpose(p.order).reshape(full, copy=False)
        except ValueError:  # not expressible as a reshape (never for merged groups)
            pass
        else:
            if not writeable and v.flags.writeable:
                v.flags.writeable = False
            return v

    def stride(g: Sequence[int]) -> int:
        return arr.strides[g[-1]] if g else 0

    return as_strided(
        arr,
        shape=full,
        strides=tuple(stride(g) for g in p.lead)
        + (stride(p.outer), arr.strides[p.axis], stride(p.inner)),
        writeable=writeable,
    )


def canonical(
    shape: Sequence[int], axis: int, arrays: Sequence[np.ndarray | None], writeable: int = 1
) -> Iterator[list[np.ndarray | None]]:
    """Yield lists of 3-D ``(outer, T, inner)`` views, one per leftover leading index.

    ``arrays[0]`` is the output; it and the next ``writeable - 1`` arrays get writeable
    views.  ``None`` entries pass through.
    """
    p = plan(shape, axis, arrays)
    views = [
        None if arr is None else view(arr, p, k < writeable) for k, arr in enumerate(arrays)
    ]
    if not p.lead_shape:
        yield views
        return
    for idx in np.ndindex(*p.lead_shape):
        yield [None if v is None else v[idx] for v in views]


@functools.lru_cache(maxsize=256)
def _state_perm(p: Plan) -> tuple[int, ...]:
    """Axes of a state ``(F, *shape without axis)`` in the order ``(lead, F, outer, inner)``
    (size-1 axes with the lead)."""
    reduced = [1 + (d if d < p.axis else d - 1) for d in p.order if d != p.axis]
    split = len(reduced) - len(p.outer) - len(p.inner)
    return (*reduced[:split], 0, *reduced[split:])


@functools.lru_cache(maxsize=256)
def _state_unperm(p: Plan) -> tuple[int, ...]:
    """The inverse permutation of :func:`_state_perm`."""
    perm = _state_perm(p)
    return tuple(sorted(range(len(perm)), key=perm.__getitem__))


def pack_lanes(state: np.ndarray, p: Plan) -> np.ndarray:
    """Per-series ``state`` ``(F, *shape without axis)`` as a new C-contiguous
    ``(*lead_shape, F, outer, inner)`` array, in the lane order of the views."""
    packed = state.transpose(_state_perm(p))
    return np.array(
        packed.reshape(p.lead_shape + (state.shape[0], p.n_outer, p.n_inner)), order="C"
    )


def unpack_lanes(packed: np.ndarray, p: Plan, like: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_lanes`: a new C-contiguous array shaped as ``like``."""
    spread = packed.reshape(tuple(like.shape[k] for k in _state_perm(p)))
    return np.ascontiguousarray(spread.transpose(_state_unperm(p)))


def time_major(out3: np.ndarray) -> bool:
    """Vectorise across lanes when the inner axis is contiguous, else scan row-wise."""
    return out3.shape[2] > 1 and abs(out3.strides[2]) == out3.itemsize


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
    """Lanes per task for the time-major kernels (linear scan, EWM, GAE, log-space).

    Time-major: blocks as wide as possible (at most ``VECTOR_BLOCK``), split further to
    give every thread work, down to ``min_lanes`` lanes per block; a multiple of 8 lanes
    (whole cache lines).  A task reads a few KiB of each row and then jumps a whole row
    ahead, where the hardware prefetcher starts over; the kernels therefore prefetch the
    rows they will read (:func:`scanwise._kernels.stream.prefetch_row`, chunk by chunk),
    and with that narrow blocks cost little (two narrow blocks ran faster than one wide
    one: docs/design.md, "Measurements behind kernel choices").  Row-wise: 8 series per task,
    eight dependency chains in flight.  Results never depend on the block (each lane is
    scanned by one thread, in order), so the thread count only affects speed.
    """
    if not time_major(out3):
        return 8
    n_outer, _, n_inner = out3.shape
    n_blocks = max(
        -(-n_inner // VECTOR_BLOCK), min(-(-n_threads // n_outer), n_inner // min_lanes)
    )
    block = -(-n_inner // max(1, n_blocks))
    return -(-block // 8) * 8


ONE_LANE_MAX = 4

#: staged lanes from this many lanes on (:func:`staged`), 16 to ``STAGED_BLOCK`` a task:
#: narrower staged tasks lost to one-lane tasks (ewm_corr [125000, 16]: 22 ms against 14)
STAGED_MIN_LANES = 32
STAGED_BLOCK = 32


def staged(out3: np.ndarray, *arrays: np.ndarray | None) -> bool:
    """Run the EW kernels' vectorised lane loop over transposed tiles (staged lanes)?

    Yes for at least ``STAGED_MIN_LANES`` lanes when an operand is not C-contiguous (an
    F-ordered array or DataFrame, a column slice, negative strides): the kernels are then
    typed for strided arrays, whose lane loop does not vectorise, and one-lane tasks run
    one division chain each.  A tile of the task's lanes costs two copies in cache
    (docs/design.md, "Measurements behind kernel choices").
    """
    if out3.shape[2] < STAGED_MIN_LANES:
        return False
    return not all(a is None or a.flags.c_contiguous for a in (out3, *arrays))


def staged_block(out3: np.ndarray, n_threads: int) -> int:
    """Lanes per staged task: 16 to ``STAGED_BLOCK``, enough tasks for every thread, a
    multiple of 8 (a lane tile row is whole vectors)."""
    n_outer, _, n_inner = out3.shape
    per = -(-n_inner // max(1, -(-n_threads // n_outer)))
    return max(16, min(STAGED_BLOCK, -(-per // 8) * 8))


def one_lane_tasks(out3: np.ndarray) -> bool:
    """A task per lane, its state in registers, for the EW kernels?

    Yes when the time axis is the fast one (not :func:`time_major`: a 1-D series, the
    columns of an F-ordered array, every pandas DataFrame), and for a contiguous inner
    axis of at most ``ONE_LANE_MAX`` lanes.  A lane loop over a strided inner axis reads
    one element per cache line and pays per step for slices and chunks, more than a step
    of one lane costs; over a contiguous inner axis the vectorised lane loop wins from 8
    lanes on (docs/design.md, "Measurements behind kernel choices").  The one-lane
    kernels compile for the strided layout only, so strided and 1-D inputs share their
    compilations.
    """
    n_inner = out3.shape[2]
    return n_inner <= ONE_LANE_MAX or not time_major(out3)


def use_chunked(out3: np.ndarray) -> bool:
    """Reduce-then-scan pays off for a few long series only."""
    n_outer, n_t, n_inner = out3.shape
    return n_outer * n_inner <= CHUNKED_MAX_SERIES and n_t >= CHUNKED_MIN_T


def flip(arr: np.ndarray | None, axis: int) -> np.ndarray | None:
    return None if arr is None else np.flip(arr, axis)
