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
