"""Streaming (non-temporal) stores for kernels whose output is too big for the cache.

A plain store to a line that is not cached first reads the line from memory
(read-for-ownership), so a scan that writes a large output moves three bytes per byte
written, while ``memcpy`` (the copy floor) streams its stores past the cache and moves
two.  ``put(arr, index, value, stream)`` is a plain store when ``stream`` is false and
a store marked ``!nontemporal`` for LLVM when it is true (``movnt*`` on x86, ``stnp`` on
AArch64); ``drain(stream)`` then fences, because streamed stores are weakly ordered.
The store writes the same value either way: results never depend on ``stream``.

LLVM does not vectorise a loop whose non-temporal stores it cannot prove aligned, so a
vectorised kernel computes a row of lanes into a small local array (plain stores, in
L1) and then hands it to :func:`stream_row`, which writes aligned vectors.

Two rules for kernels that stream (see :func:`scanwise._layout.streaming`):

* never read back what was streamed (the line is no longer cached): carry the state in
  a small local array or in registers;
* only stream runs of neighbouring elements (whole cache lines are written), never a
  strided output.

Pass ``stream`` as a run-time bool and branch on it *outside* the lane loop, calling an
``inline="always"`` helper with the literal ``True``/``False``, so each copy of the loop
has a constant flag and vectorises.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def nt_store(typingctx, arr, index, value):  # pragma: no cover - compiled
    """``arr[index] = value`` as a non-temporal store (``index``: int or tuple of ints)."""
    if not isinstance(arr, types.Array):
        return None
    indices = list(index) if isinstance(index, types.BaseTuple) else [index]
    if len(indices) != arr.ndim or not all(isinstance(t, types.Integer) for t in indices):
        return None

    def codegen(context, builder, sig, args):
        aty, ity, vty = sig.args
        ary = context.make_array(aty)(context, builder, args[0])
        if isinstance(ity, types.BaseTuple):
            raw = cgutils.unpack_tuple(builder, args[1], len(ity))
            tys = list(ity)
        else:
            raw, tys = [args[1]], [ity]
        inds = [context.cast(builder, v, t, types.intp) for v, t in zip(raw, tys, strict=True)]
        ptr = cgutils.get_item_pointer(
            context, builder, aty, ary, inds, wraparound=False, boundscheck=False
        )
        val = context.cast(builder, args[2], vty, aty.dtype)
        store = builder.store(val, ptr)
        store.set_metadata(
            "nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
        )
        return context.get_dummy_value()

    return types.void(arr, index, value), codegen


# one cache line per streamed store, aligned to it: two half-line streamed stores need not
# combine into one line write (measured in docs/design.md).  An AVX-512 CPU writes the line
# with one zmm store; an AVX2 one splits it into two ymm stores.
VECTOR_BYTES = 64


def _is_row_index(arr, j) -> bool:
    return isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(j, types.Integer)


def _element_pointer(context, builder, sig, args):  # pragma: no cover - compiled
    """LLVM pointer to ``arr[j]`` for an intrinsic called as ``f(arr, j)``."""
    ary = context.make_array(sig.args[0])(context, builder, args[0])
    idx = context.cast(builder, args[1], sig.args[1], types.intp)
    return cgutils.get_item_pointer(
        context, builder, sig.args[0], ary, [idx], wraparound=False, boundscheck=False
    )


@intrinsic
def _address(typingctx, arr, j):  # pragma: no cover - compiled
    """The address of ``arr[j]`` (1-D ``arr``) as an integer."""
    if not _is_row_index(arr, j):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig, args)
        return builder.ptrtoint(ptr, context.get_value_type(types.intp))

    return types.intp(arr, j), codegen


@intrinsic
def _copy_vector(typingctx, dst, j, src):  # pragma: no cover - compiled
    """Copy ``VECTOR_BYTES`` from ``src[j:]`` (any alignment) to ``dst[j:]`` (aligned to
    ``VECTOR_BYTES``) as one non-temporal vector store; both unit-stride 1-D arrays of one
    dtype whose item size divides ``VECTOR_BYTES``."""
    ok = (
        isinstance(dst, types.Array)
        and isinstance(src, types.Array)
        and dst.ndim == src.ndim == 1
        and dst.dtype == src.dtype
        and isinstance(j, types.Integer)
    )
    if not ok:
        return None

    def codegen(context, builder, sig, args):
        dty, jty, sty = sig.args
        idx = context.cast(builder, args[1], jty, types.intp)
        ptrs = []
        for ty, val in ((dty, args[0]), (sty, args[2])):
            ary = context.make_array(ty)(context, builder, val)
            ptrs.append(
                cgutils.get_item_pointer(
                    context, builder, ty, ary, [idx], wraparound=False, boundscheck=False
                )
            )
        # the bytes as a vector of 64-bit integers: any element type (complex too) whose
        # size divides VECTOR_BYTES, as :func:`stream_row` asks for
        vec = ir.VectorType(ir.IntType(64), VECTOR_BYTES // 8).as_pointer()
        load = builder.load(builder.bitcast(ptrs[1], vec), align=1)
        store = builder.store(load, builder.bitcast(ptrs[0], vec), align=VECTOR_BYTES)
        store.set_metadata(
            "nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
        )
        return context.get_dummy_value()

    return types.void(dst, j, src), codegen


@njit(inline="always")
def stream_row(dst, src):  # pragma: no cover - numba
    """``dst[:] = src`` with non-temporal stores: scalar ones up to the first aligned
    element of ``dst``, then whole aligned vectors, then scalar ones for the tail.
    ``dst`` and ``src`` are 1-D, unit-stride and of one length and dtype."""
    n = src.size
    size = dst.itemsize
    width = VECTOR_BYTES // size
    j = 0
    while j < n and _address(dst, j) % VECTOR_BYTES != 0:
        nt_store(dst, j, src[j])
        j += 1
    while j + width <= n:
        _copy_vector(dst, j, src)
        j += width
    while j < n:
        nt_store(dst, j, src[j])
        j += 1


@njit(inline="always")
def store_row(dst, src, stream):  # pragma: no cover - numba
    """``dst[:] = src`` from a row computed in a local array: streamed when ``stream``
    (:func:`stream_row`), else plain stores.  Computing into the local row first also
    keeps the lane loop free of stores that LLVM cannot prove apart from its inputs (a
    lane loop writing its output rows in place ran 4x slower at 16 lanes)."""
    if stream:
        stream_row(dst, src)
    else:
        for j in range(src.size):
            dst[j] = src[j]


@intrinsic
def _fence(typingctx):  # pragma: no cover - compiled
    def codegen(context, builder, sig, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence"
            )
            builder.call(fn, [])
        else:
            builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@njit(inline="always")
def put(arr, index, value, stream):  # pragma: no cover - numba
    """``arr[index] = value``, streamed past the cache when ``stream`` is true."""
    if stream:
        nt_store(arr, index, value)
    else:
        arr[index] = value


@njit(inline="always")
def drain(stream):  # pragma: no cover - numba
    """Order the streamed stores before anything that follows (end of a task)."""
    if stream:
        _fence()


@intrinsic
def _prefetch(typingctx, arr, j):  # pragma: no cover - compiled
    """Hint the CPU to fetch the cache line of ``arr[j]`` (1-D ``arr``); never faults."""
    if not _is_row_index(arr, j):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig, args)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, keep in every cache level, data
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, j), codegen


PREFETCH_ROWS = 8  # how many time steps ahead a time-major kernel asks for its input
PREFETCH_LANES = 128  # lanes per chunk: prefetch a chunk's lines, then compute the chunk


@njit(inline="always")
def prefetch_row(row):  # pragma: no cover - numba
    """Ask for every cache line of the unit-stride row slice ``row`` (64-byte lines).

    A time-major task reads a few KiB of each row and then jumps a whole row ahead: the
    hardware prefetcher starts over at every jump, so the kernel names what it will read
    ``PREFETCH_ROWS`` steps later.  It does so chunk by chunk, ``PREFETCH_LANES`` lanes
    at a time, each chunk's prefetch just before the chunk's work: a core keeps only a
    few dozen misses in flight, so a whole row asked for at once (tried first) mostly
    waited in the queue while the core computed, and reads did not overlap the
    arithmetic.  EW mean on [1e5, 1000], two tasks, ``out=``: 0.103–0.105 s without a
    prefetch, 0.077–0.083 s with whole rows, 0.059–0.066 s in chunks (copy 0.050–0.062 s).
    """
    step = max(1, 64 // row.itemsize)
    for j in range(0, row.size, step):
        _prefetch(row, j)
