"""The short-series fast path (``_dispatch._one_series``: one 1-D float series, a constant
coefficient, no state, no resets) against a plain loop and NumPy, forward and reverse."""

from __future__ import annotations

import numpy as np
import pytest

import scanwise


def _loop(x: np.ndarray, a: float, reverse: bool) -> np.ndarray:
    xs = x[::-1] if reverse else x
    h = np.empty_like(xs)
    acc = xs.dtype.type(0)
    for t in range(len(xs)):
        acc = xs[t] if t == 0 else xs.dtype.type(a) * acc + xs[t]
        h[t] = acc
    return h[::-1] if reverse else h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reverse", [False, True])
def test_short_series_equal_a_loop(dtype, reverse):
    x = np.random.default_rng(0).standard_normal(777).astype(dtype)
    for a in (0.9, -1.5, 2):
        with np.errstate(over="ignore"):
            want = _loop(x, a, reverse)
        got = scanwise.discounted_cumsum(x, a, reverse=reverse)
        assert got.dtype == dtype and np.array_equal(got, want, equal_nan=True), a
        got = scanwise.linear_recurrence(a, x, reverse=reverse)
        assert np.array_equal(got, want, equal_nan=True), a
    want = np.cumsum(x[::-1])[::-1] if reverse else np.cumsum(x)
    assert np.array_equal(scanwise.cumsum(x, reverse=reverse), want)


def test_short_series_edges_and_input_kept():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    assert scanwise.discounted_cumsum(x, 0.5, reverse=True).tolist() == [2.75, 3.5, 3.0]
    np.testing.assert_array_equal(x, before)  # never written
    assert scanwise.discounted_cumsum(np.array([4.0]), 0.5).tolist() == [4.0]
    assert scanwise.discounted_cumsum(np.array([]), 0.5).shape == (0,)
    with pytest.raises(ValueError, match="discount must be finite"):
        scanwise.discounted_cumsum(x, float("nan"))
