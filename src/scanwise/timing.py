"""Timing helpers shared by ``scanwise demo`` and ``benchmarks/`` (best of N, one process)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> float:
    """Best wall time of ``repeat`` calls after ``warmup`` untimed calls (compilation)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def optional(module: str) -> Any:
    """Import an optional peer, or return None (the caller notes it as skipped)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        return None
