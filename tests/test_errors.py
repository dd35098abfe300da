"""Bad arguments raise TypeError/ValueError naming the argument; never a numba error."""

from __future__ import annotations

import numpy as np
import pytest

import scanwise

X2 = np.ones((4, 3))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: scanwise.cumsum(X2), ValueError, "axis must be given"),
        (lambda: scanwise.cumsum(np.float64(1.0)), ValueError, "at least one dimension"),
        (lambda: scanwise.cumsum(X2, axis=2), np.exceptions.AxisError, "axis 2"),
        (lambda: scanwise.cumsum(X2, axis=1.5), TypeError, "axis"),
        (lambda: scanwise.cumsum("abc"), TypeError, "x must be a numeric"),
        (lambda: scanwise.cumsum(np.array(["a", "b"])), TypeError, "x must be a numeric"),
        (lambda: scanwise.cumsum(np.array([1, None])), TypeError, "x must be a numeric"),
        (lambda: scanwise.cumsum([1, 2], dtype="U3"), TypeError, "dtype"),
        (lambda: scanwise.cumsum([1, 2], dtype=bool), TypeError, "dtype"),
        (lambda: scanwise.cumsum([1, 2], reverse="yes"), TypeError, "reverse"),
        (lambda: scanwise.cumsum([1, 2], include_initial=1), TypeError, "include_initial"),
        (lambda: scanwise.cumsum(X2, axis=0, reset=np.ones(5, bool)), ValueError, "reset"),
        (lambda: scanwise.cumsum([1, 2], reset=["a", "b"]), TypeError, "reset"),
        (lambda: scanwise.cumsum([1, 2], reset=[2, 0]), ValueError, "reset"),
        (lambda: scanwise.cumsum(X2, axis=0, out=np.empty((3, 3))), ValueError, "out"),
        (lambda: scanwise.cumsum(X2, axis=0, out=[0] * 12), TypeError, "out"),
        (lambda: scanwise.cumsum(X2, axis=0, out=np.empty((4, 3), int)), TypeError, "out"),
        (lambda: scanwise.linear_recurrence(np.ones(3), np.ones(4)), ValueError, "a with shape"),
        (lambda: scanwise.linear_recurrence("x", np.ones(4)), TypeError, "a must be"),
        (lambda: scanwise.linear_recurrence(0.5, "x"), TypeError, "b must be"),
        (
            lambda: scanwise.linear_recurrence(0.5, X2, axis=0, initial=np.ones(4)),
            ValueError,
            "initial",
        ),
        (lambda: scanwise.linear_recurrence(0.5, X2, axis=0, initial="a"), TypeError, "initial"),
        (lambda: scanwise.discounted_cumsum(X2, "0.9", axis=0), TypeError, "discount"),
        (lambda: scanwise.discounted_cumsum(X2, np.ones(5), axis=0), ValueError, "discount"),
        (lambda: scanwise.logcumsumexp([1j, 2]), TypeError, "real"),
    ],
)
def test_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_empty_and_tiny_inputs():
    for shape, axis in [((0,), 0), ((0, 3), 0), ((3, 0), 0), ((3, 0), 1), ((1,), 0), ((1, 5), 0)]:
        x = np.ones(shape)
        np.testing.assert_array_equal(scanwise.cumsum(x, axis=axis), np.cumsum(x, axis=axis))
        assert scanwise.logcumsumexp(x, axis=axis).shape == shape
        got = scanwise.cumsum(x, axis=axis, include_initial=True)
        np.testing.assert_array_equal(got, np.cumulative_sum(x, axis=axis, include_initial=True))
