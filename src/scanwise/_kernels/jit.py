"""Lazy, layout-agnostic compilation of the kernels.

Numba would compile one specialisation per combination of C/F/A layouts and
read-only flags of every argument; with five array arguments that is dozens of
compilations of the same parallel kernel.  :func:`kernel` instead compiles one
signature per (dtype, which optional arguments are present, read-only flags) and per
"all arrays C-contiguous or not": every array is typed ``'C'`` (the common, fastest case,
which LLVM vectorises) or all are typed as the strided ``'A'`` layout.  Each signature is
compiled the first time it is needed and cached on disk; nothing compiles at import.

Inlining policy (compile time is most of the test suite's time): helpers that take and
return scalars only (one step of a lane: ``_mean_step``, ``_cov_step``, ``compose``,
``logaddexp``, ...) are ``@njit(forceinline=True)``: LLVM inlines them, and numba compiles
each once per process and scalar signature, not once per kernel signature.  Helpers that
take arrays or slices (lane loops, state loads) stay ``inline="always"`` (numba-IR
inlining, which prunes the ``is None`` branches of optional arrays before typing).
numba-IR inlining deep-copies the callee's IR at every call site, which about doubled
the compile time of the largest kernels at no gain in speed; lane loops inlined by LLVM
too ran slower (the measurements: ``docs/design.md``, "Measurements behind kernel
choices").

The disk cache: numba keys a cached kernel on its own source file only (its modification
time and size), so an edit to a helper in another file (``stream.py``, ``vecmath.py``,
``access.py``, ``_carry.py``) would leave every kernel that inlines it cached as it was.
That happened in a development checkout: ``cumsum`` on [1e5, 200] kept running the
half-line streamed stores of an older ``stream.py`` (24-40 ms instead of 18-22; tests
and benchmarks then measure code that is no longer in the tree).  Each kernel's cache
is therefore stamped with a digest of every module kernels are built from
(:func:`sources_digest`) as well: any edit there recompiles them all.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import types


def _numba_type(arg: Any, layout: str) -> types.Type:
    if arg is None:
        return types.none
    if isinstance(arg, np.ndarray):
        return _array_type(arg.dtype, arg.ndim, layout, not arg.flags.writeable)
    if isinstance(arg, (bool, int, float, np.floating, np.integer, np.bool_)):
        return _scalar_type(type(arg))
    return numba.typeof(arg)


@functools.cache
def _array_type(dtype: np.dtype, ndim: int, layout: str, readonly: bool) -> types.Type:
    # building numba types costs ~20 us per argument: cached, small calls stay cheap
    return types.Array(numba.from_dtype(dtype), ndim, layout, readonly=readonly)


@functools.cache
def _scalar_type(kind: type) -> types.Type:
    return numba.typeof(kind(0))


_PLAIN = frozenset((type(None), bool, int, float))


def _key(arg: Any) -> Any:
    """What decides ``arg``'s numba type here (with the layout rule of :func:`_layout`).

    Exact types first: a kernel call keys a dozen arguments, and small calls feel it."""
    kind = type(arg)
    if kind is np.ndarray:
        flags = arg.flags
        return (arg.dtype, arg.ndim, flags.writeable, flags.c_contiguous)
    if kind in _PLAIN:
        return kind
    if isinstance(arg, np.ndarray):
        return (arg.dtype, arg.ndim, arg.flags.writeable, arg.flags.c_contiguous)
    if isinstance(arg, np.generic):
        return kind
    return numba.typeof(arg)


def _layout(args: tuple[Any, ...]) -> str:
    """'C' when every array argument is C-contiguous (lets LLVM vectorise), else 'A'."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return "C" if all(a.flags.c_contiguous for a in arrays) else "A"


# what the kernels are compiled from, relative to the package (see the module doc)
KERNEL_SOURCES = ("_kernels/*.py", "_carry.py")


@functools.cache
def sources_digest() -> str:
    """sha256 of the modules named by ``KERNEL_SOURCES`` (names and contents): part of
    every kernel's disk-cache stamp.  Empty where the sources cannot be read."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    try:
        for path in sorted(p for pattern in KERNEL_SOURCES for p in root.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    except OSError:
        return ""
    return digest.hexdigest()


def _stamp_cache(dispatcher: Any) -> None:
    """Add :func:`sources_digest` to the stamp numba checks before it loads ``dispatcher``'s
    cached code (its source file's modification time and size): a cache written
    before a helper module changed is then stale, and recompiled.  numba keeps that
    stamp in a private attribute; where it is missing (another numba), the cache keeps
    numba's own rule."""
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    stamp = getattr(cache_file, "_source_stamp", None)
    if stamp is not None:
        cache_file._source_stamp = (stamp, sources_digest())


class kernel:
    """Decorator: a numba kernel compiled per signature on first use (see module doc).

    Calls go straight to the compiled entry point of their exact signature, never
    through numba's dispatcher resolution, which could start an unwanted compilation
    (of a 'C'/'F' specialisation) and is not safe while another thread compiles.
    """

    def __init__(
        self, fn: Callable[..., Any], layout: str | None = None, contract: bool = False
    ) -> None:
        self.fn = fn
        # 'A' for every call: one signature for any layout (for scalar code, which gains
        # nothing from 'C' and should not compile twice); None: chosen per call
        self.layout = layout
        # let LLVM fuse a * b + c into one FMA (one rounding instead of two): for kernels
        # whose polynomials are latency-bound (``exp2`` of the ``times=`` decay), where
        # bits against NumPy are not the contract (tested to 1 ulp instead).  numba's disk
        # cache does not key on it: one setting per kernel function, fixed in the source
        self.contract = contract
        self.__doc__ = fn.__doc__
        self._dispatcher: Any = None
        self._entries: dict[tuple[types.Type, ...], Callable[..., Any]] = {}
        self._by_key: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def __call__(self, *args: Any) -> Any:
        # a plain-Python key first: numba types cost ~1 us each to build and hash
        key = tuple(map(_key, args))
        entry = self._by_key.get(key)
        if entry is None:
            entry = self._entry(args)
            self._by_key[key] = entry
        if _serialise_calls():
            with _CALL_LOCK:
                return entry(*args)
        return entry(*args)

    def _entry(self, args: tuple[Any, ...]) -> Callable[..., Any]:
        layout = self.layout or _layout(args)
        return self.compiled(tuple(_numba_type(a, layout) for a in args))

    def compiled(self, sig: tuple[types.Type, ...]) -> Callable[..., Any]:
        """The entry point of signature ``sig``, compiled (or loaded from the disk
        cache) on first use."""
        entry = self._entries.get(sig)
        if entry is None:
            # callers may be threads (dask's threaded scheduler): compile under a lock
            with _COMPILE_LOCK:
                if self._dispatcher is None:
                    self._dispatcher = numba.njit(
                        cache=True, parallel=True, nogil=True, error_model="numpy",
                        fastmath={"contract"} if self.contract else False,
                    )(self.fn)
                    _stamp_cache(self._dispatcher)
                entry = self._entries.get(sig)
                if entry is None:
                    started = time.perf_counter()
                    self._dispatcher.compile(sig)
                    _log_compile(self.fn.__qualname__, sig, time.perf_counter() - started)
                    entry = self._dispatcher.overloads[sig].entry_point
                    self._entries[sig] = entry
        return entry


def _log_compile(name: str, sig: tuple[types.Type, ...], seconds: float) -> None:
    """With ``SCANWISE_COMPILE_LOG=<file>``, append one line per compilation (or cache
    load): pid, kernel, seconds, the running test, signature.  How the test suite's
    compile time was split by kernel and signature (see the README's CI notes)."""
    path = os.environ.get("SCANWISE_COMPILE_LOG")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "")
        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\t{name}\t{seconds:.2f}\t{test}\t{sig}\n")


_COMPILE_LOCK = threading.RLock()
_CALL_LOCK = threading.Lock()


_LAYER: str | None = None  # numba's threading layer, once chosen (it never changes after)


def _serialise_calls() -> bool:
    """numba's fallback 'workqueue' threading layer aborts the process when two threads
    launch parallel kernels at once; with 'omp' or 'tbb' concurrent calls are fine."""
    global _LAYER
    if _LAYER is None:
        try:
            _LAYER = numba.threading_layer()
        except ValueError:  # no parallel kernel has run yet: the layer is not chosen
            return True
    return _LAYER == "workqueue"
