"""Timing helpers shared by ``scanwise demo`` and ``benchmarks/`` (best of N, one process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> float:
    """Best wall time of ``repeat`` calls after ``warmup`` untimed calls (compilation)."""
    return best_times([fn], [repeat], rounds=1, warmup=warmup)[0]


def best_times(
    fns: Sequence[Callable[[], Any]], repeat: Sequence[int], rounds: int = 3, warmup: int = 1
) -> list[float]:
    """Best wall time of each of ``fns``, measured in ``rounds`` interleaved rounds of
    ``repeat[k]`` calls each (after ``warmup`` untimed calls of each).

    On a shared machine the load comes in bursts of seconds: timing one function's calls
    back to back and then the next one's can put a burst on one side only.  Interleaving
    gives every function calls in every part of the run, so the ratios compare like
    with like.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            for _ in range(repeat[k]):
                t0 = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - t0)
    return best


def optional(module: str) -> Any:
    """Import an optional peer, or return None (the caller notes it as skipped)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        return None
