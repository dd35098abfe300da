"""``scanwise.show_versions()``: what a bug report needs to know about the environment.

Reads installed versions from package metadata (``importlib.metadata``), so an optional
backend that is installed is *not* imported to learn its version; numba is the one
exception, imported only when asked for the thread count, because scanwise's kernels
run on numba's threads.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

# (distribution name, label) in the order printed; None where not installed
CORE = ("numpy", "numba", "llvmlite")
OPTIONAL = (
    "pandas", "polars", "xarray", "dask", "distributed", "zarr", "torch", "torchrl",
    "scipy", "numbagg", "matplotlib", "rich",
)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else ``platform``'s words."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _threads() -> int | None:
    """numba's thread count (what every parallel kernel uses), or None without numba."""
    if _version("numba") is None:
        return None
    import numba

    return int(numba.get_num_threads())


def versions(threads: bool = True) -> dict[str, str | int | None]:
    """Every field :func:`show_versions` prints, as a dict (name -> value or None)."""
    from . import __version__

    info: dict[str, str | int | None] = {
        "scanwise": __version__,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu(),
        "cpu_count": os.cpu_count(),
    }
    if threads:
        info["numba_threads"] = _threads()
    for dist in CORE + OPTIONAL:
        info[dist] = _version(dist)
    return info


def show_versions(as_json: bool = False) -> None:
    """Print the versions of scanwise, Python, its dependencies and the optional backends,
    the CPU and the thread count, for bug reports (as ``pandas.show_versions()``).

    Versions come from package metadata: no optional backend is imported (numba is, for
    its thread count). A package that is not installed prints ``None``.

    Parameters:
        as_json: print one JSON object instead of aligned lines.

    Example:
        >>> import scanwise
        >>> scanwise.show_versions()  # doctest: +ELLIPSIS
        scanwise        : ...
        python          : ...
        ...
        numba_threads   : ...
        numpy           : ...
    """
    info = versions()
    if as_json:
        import json

        print(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        print(f"{key:<15} : {value}")
