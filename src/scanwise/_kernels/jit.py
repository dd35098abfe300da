"""Lazy, layout-agnostic compilation of the kernels.

Numba would compile one specialisation per combination of C/F/A layouts and
read-only flags of every argument; with five array arguments that is dozens of
compilations of the same parallel kernel.  :func:`kernel` instead compiles one
signature per (dtype, which optional arguments are present, read-only flags) and per
"all arrays C-contiguous or not": every array is typed ``'C'`` (the common, fastest case,
which LLVM vectorises) or all are typed as the strided ``'A'`` layout.  Each signature is
compiled the first time it is needed and cached on disk; nothing compiles at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import types


def _numba_type(arg: Any, layout: str) -> types.Type:
    if arg is None:
        return types.none
    if isinstance(arg, np.ndarray):
        return types.Array(
            numba.from_dtype(arg.dtype), arg.ndim, layout, readonly=not arg.flags.writeable
        )
    return numba.typeof(arg)


def _layout(args: tuple[Any, ...]) -> str:
    """'C' when every array argument is C-contiguous (lets LLVM vectorise), else 'A'."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return "C" if all(a.flags.c_contiguous for a in arrays) else "A"


class kernel:
    """Decorator: a numba kernel compiled per ``'A'``-layout signature on first use."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self._dispatcher: Any = None
        self._compiled: set[tuple[types.Type, ...]] = set()

    def __call__(self, *args: Any) -> Any:
        layout = _layout(args)
        sig = tuple(_numba_type(a, layout) for a in args)
        if sig not in self._compiled:
            # callers may be threads (dask's threaded scheduler): compile under a lock,
            # since enabling/disabling compilation is dispatcher-wide state
            with _COMPILE_LOCK:
                if self._dispatcher is None:
                    self._dispatcher = numba.njit(
                        cache=True, parallel=True, nogil=True, error_model="numpy"
                    )(self.fn)
                if sig not in self._compiled:
                    self._dispatcher.disable_compile(False)
                    try:
                        self._dispatcher.compile(sig)
                    finally:
                        self._dispatcher.disable_compile()  # calls pick a compiled signature
                    self._compiled.add(sig)
        if _serialise_calls():
            with _CALL_LOCK:
                return self._dispatcher(*args)
        return self._dispatcher(*args)


_COMPILE_LOCK = threading.RLock()
_CALL_LOCK = threading.Lock()


def _serialise_calls() -> bool:
    """numba's fallback 'workqueue' threading layer aborts the process when two threads
    launch parallel kernels at once; with 'omp' or 'tbb' concurrent calls are fine."""
    try:
        return numba.threading_layer() == "workqueue"
    except ValueError:  # no parallel kernel has run yet: the layer is not chosen
        return True
