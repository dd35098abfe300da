"""The references themselves agree with NumPy / SciPy, so tests against them are anchored."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from scanwise import reference


def test_reference_matches_numpy_and_scipy(rng):
    x = rng.standard_normal((40, 3))
    np.testing.assert_array_equal(reference.cumsum(x, axis=0), np.cumsum(x, axis=0))
    np.testing.assert_array_equal(reference.cumprod(x, axis=1), np.cumprod(x, axis=1))
    np.testing.assert_allclose(
        reference.logcumsumexp(x, axis=0), np.logaddexp.accumulate(x, axis=0), rtol=1e-14
    )
    np.testing.assert_allclose(
        reference.discounted_cumsum(x, 0.9, axis=0, reverse=True),
        lfilter([1.0], [1.0, -0.9], x[::-1], axis=0)[::-1],
        rtol=1e-12,
    )


def test_reference_reset_equals_per_segment_numpy(rng):
    x = rng.standard_normal(30)
    starts = [0, 7, 8, 19]
    reset = np.zeros(30, bool)
    reset[starts] = True
    want = np.concatenate([np.cumsum(s) for s in np.split(x, starts[1:])])
    np.testing.assert_array_equal(reference.cumsum(x, reset=reset), want)
    # reverse: a reset marks the last step of a segment in time order
    ends = [6, 7, 18, 29]
    rreset = np.zeros(30, bool)
    rreset[ends] = True
    segs = np.split(x, [e + 1 for e in ends[:-1]])
    want = np.concatenate([np.cumsum(s[::-1])[::-1] for s in segs])
    np.testing.assert_allclose(reference.cumsum(x, reset=rreset, reverse=True), want, rtol=1e-14)
