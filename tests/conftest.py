import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=600, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def small_chunks(monkeypatch):
    """Route short series through the chunk-parallel path (reduce-then-scan)."""
    from scanwise import _layout

    monkeypatch.setattr(_layout, "CHUNKED_MIN_T", 8)
    monkeypatch.setattr(_layout, "CHUNK", 5)
    return _layout


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session", autouse=True)
def _precompiled_kernels():
    """Under xdist, each worker first compiles its share of the kernel signatures the
    suite needs (``tests/kernel_signatures.txt``) into numba's disk cache, then loads
    the rest from it: without this both workers compile most signatures themselves
    (about half of all compilations were duplicates).  Only an optimisation: a
    signature missing from the list is compiled when a test needs it."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if count < 2 or not worker.startswith("gw") or os.environ.get("SCANWISE_PRECOMPILE") == "0":
        yield
        return
    import kernel_signatures

    kernel_signatures.precompile(int(worker[2:]), count)
    yield
