"""Property tests of the NumPy API against NumPy, SciPy and the reference loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from layouts import LAYOUTS, relayout, shapes, values

import scanwise
from scanwise import reference

DTYPES = st.sampled_from(["float64", "float32", "int64", "int32", "uint8", "bool"])


def _axis(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


@given(st.data(), shapes(), LAYOUTS, DTYPES)
def test_cumsum_matches_numpy_bitwise(data, shape, layout, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = relayout(values(rng, shape, dtype), layout)
    axis = _axis(data.draw, x.ndim)
    before = x.copy()
    got = scanwise.cumsum(x, axis=axis)
    want = np.cumsum(x, axis=axis)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want, strict=True)
    np.testing.assert_array_equal(x, before)  # input untouched


@given(st.data(), shapes(), LAYOUTS, st.sampled_from(["float64", "int64", "float32"]))
def test_cumprod_matches_numpy(data, shape, layout, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = relayout(values(rng, shape, dtype), layout)
    axis = _axis(data.draw, x.ndim)
    got = scanwise.cumprod(x, axis=axis)
    np.testing.assert_array_equal(got, np.cumprod(x, axis=axis), strict=True)


@given(st.data(), shapes(), LAYOUTS, st.booleans(), st.sampled_from(["float64", "int64"]))
def test_include_initial_matches_cumulative_sum(data, shape, layout, reverse, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = relayout(values(rng, shape, dtype), layout)
    axis = _axis(data.draw, x.ndim)
    got = scanwise.cumsum(x, axis=axis, include_initial=True, reverse=reverse)
    if reverse:
        want = np.flip(np.cumulative_sum(np.flip(x, axis), axis=axis, include_initial=True), axis)
    else:
        want = np.cumulative_sum(x, axis=axis, include_initial=True)
    np.testing.assert_array_equal(got, want, strict=True)
    got = scanwise.cumprod(x, axis=axis, include_initial=True, reverse=reverse)
    if reverse:
        want = np.flip(np.cumulative_prod(np.flip(x, axis), axis=axis, include_initial=True), axis)
    else:
        want = np.cumulative_prod(x, axis=axis, include_initial=True)
    np.testing.assert_array_equal(got, want, strict=True)


@given(st.data(), shapes(), LAYOUTS, st.booleans(), st.booleans(), st.booleans())
def test_linear_recurrence_against_reference(data, shape, layout, reverse, use_reset, use_init):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    b = relayout(values(rng, shape, "float64"), layout)
    axis = _axis(data.draw, b.ndim)
    # a: scalar, per-channel (size 1 along axis) or per-step
    kind = data.draw(st.sampled_from(["scalar", "channel", "step", "full"]))
    if kind == "scalar":
        a = float(rng.uniform(-1.1, 1.1))
    elif kind == "channel":
        a = rng.uniform(
            -1, 1, size=tuple(1 if d == axis % b.ndim else s for d, s in enumerate(shape))
        )
    elif kind == "step":
        a = rng.uniform(-1, 1, size=(shape[axis % b.ndim],) + (1,) * (b.ndim - 1 - axis % b.ndim))
    else:
        a = relayout(rng.uniform(-1, 1, size=shape), data.draw(LAYOUTS))
    reset = relayout(rng.random(shape) < 0.2, data.draw(LAYOUTS)) if use_reset else None
    red = tuple(s for d, s in enumerate(shape) if d != axis % b.ndim)
    initial = rng.standard_normal(red) if use_init else None
    got = scanwise.linear_recurrence(a, b, axis=axis, reverse=reverse, reset=reset, initial=initial)
    want = reference.linear_recurrence(
        a, b, axis=axis % b.ndim, reverse=reverse, reset=reset, initial=initial
    )
    np.testing.assert_array_equal(got, want)


@given(
    st.data(), shapes(), LAYOUTS, st.booleans(), st.sampled_from(["float64", "int64", "float32"])
)
def test_cumsum_cumprod_reset_against_reference(data, shape, layout, reverse, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = relayout(values(rng, shape, dtype), layout)
    axis = _axis(data.draw, x.ndim) % x.ndim
    reset = rng.random(shape) < 0.3
    got = scanwise.cumsum(x, axis=axis, reset=reset, reverse=reverse)
    np.testing.assert_array_equal(
        got, reference.cumsum(x, axis=axis, reset=reset, reverse=reverse), strict=True
    )
    if np.dtype(dtype).kind != "c":
        got = scanwise.cumprod(x, axis=axis, reset=reset, reverse=reverse)
        want = reference.cumprod(x, axis=axis, reset=reset, reverse=reverse)
        np.testing.assert_array_equal(got, want, strict=True)


@given(st.data(), shapes(), LAYOUTS, st.booleans(), st.sampled_from(["float64", "float32"]))
def test_logcumsumexp_matches_numpy(data, shape, layout, use_reset, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = values(rng, shape, dtype) * 30
    x[rng.random(shape) < 0.1] = -np.inf
    x = relayout(x, layout)
    axis = _axis(data.draw, x.ndim) % x.ndim
    # the oracle runs in float64 on the same values: float32 results are accumulated in
    # float64 and rounded once, while a float32 oracle loses precision where a sum of
    # large terms nearly cancels (results near 0: 3e-5 relative seen)
    x64 = x.astype(np.float64)
    if use_reset:
        reset = rng.random(shape) < 0.2
        want = reference.logcumsumexp(x64, axis=axis, reset=reset)
    else:
        reset = None
        want = np.logaddexp.accumulate(x64, axis=axis) if x.size else x64
    got = scanwise.logcumsumexp(x, axis=axis, reset=reset)
    assert got.dtype == x.dtype
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


@np.errstate(invalid="ignore")
def test_logcumsumexp_extremes():
    x = np.array([-np.inf, -np.inf, 1e308, 1e308, np.inf, 0.0, np.nan, 1.0])
    np.testing.assert_array_equal(scanwise.logcumsumexp(x), np.logaddexp.accumulate(x))
    y = np.array([-np.inf, np.inf, np.inf, -np.inf])
    np.testing.assert_array_equal(scanwise.logcumsumexp(y), np.logaddexp.accumulate(y))
    big = np.array([800.0, 800.0, 800.0])  # exp overflows, the scan must not
    np.testing.assert_allclose(scanwise.logcumsumexp(big), 800 + np.log([1, 2, 3]), rtol=1e-15)
    assert scanwise.logcumsumexp(np.arange(5)).dtype == np.float64
    np.testing.assert_allclose(
        scanwise.logcumsumexp([0.0, 0.0, 0.0], reverse=True), np.log([3.0, 2.0, 1.0])
    )


@given(st.data(), st.integers(1, 80), st.integers(1, 4), st.booleans())
def test_discounted_cumsum_matches_lfilter(data, n, batch, reverse):
    from scipy.signal import lfilter

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    g = data.draw(st.floats(0, 1))
    x = rng.standard_normal((batch, n))
    got = scanwise.discounted_cumsum(x, g, axis=1, reverse=reverse)
    src = x[:, ::-1] if reverse else x
    want = lfilter([1.0], [1.0, -g], src, axis=1)
    want = want[:, ::-1] if reverse else want
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@given(st.data(), shapes(), st.booleans(), st.booleans())
def test_chunked_continuation_equals_one_call(data, shape, reverse, use_reset):
    """Streaming: scanning x[:k] then x[k:] with initial=<last row> equals one call,
    resets in either part (a reset restarts from the identity, not from ``initial``)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = values(rng, shape, "float64")
    axis = _axis(data.draw, x.ndim) % x.ndim
    n = shape[axis]
    k = data.draw(st.integers(0, n))
    reset = rng.random(shape) < 0.2 if use_reset else None
    g = 0.9
    first, second = (slice(k, n), slice(0, k)) if reverse else (slice(0, k), slice(k, n))
    whole = scanwise.discounted_cumsum(x, g, axis=axis, reset=reset, reverse=reverse)

    def part(s):
        idx = [slice(None)] * x.ndim
        idx[axis] = s
        return tuple(idx)

    r1 = None if reset is None else reset[part(first)]
    r2 = None if reset is None else reset[part(second)]
    h1 = scanwise.discounted_cumsum(x[part(first)], g, axis=axis, reset=r1, reverse=reverse)
    np.testing.assert_array_equal(h1, whole[part(first)])
    if h1.shape[axis] == 0:
        return
    state = h1.take(0 if reverse else -1, axis=axis)
    h2 = scanwise.discounted_cumsum(
        x[part(second)], g, axis=axis, initial=state, reset=r2, reverse=reverse
    )
    np.testing.assert_array_equal(h2, whole[part(second)])


@pytest.mark.parametrize("dtype", ["complex128", "complex64", "float16", "uint16", "int8"])
def test_other_dtypes(dtype, rng):
    x = values(rng, (7, 5), dtype)
    for axis in (0, 1):
        got = scanwise.cumsum(x, axis=axis)
        want = np.cumsum(x, axis=axis)
        assert got.dtype == want.dtype
        if dtype == "float16":  # accumulated in float32 and rounded once
            exact = np.cumsum(x.astype(np.float64), axis=axis)
            np.testing.assert_allclose(got, exact.astype(np.float16), rtol=1e-3, atol=1e-3)
        else:
            np.testing.assert_array_equal(got, want)
    got = scanwise.discounted_cumsum(x, 0.5, axis=1)
    want = reference.discounted_cumsum(x, 0.5, axis=1)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-2 if dtype == "float16" else 1e-6)


def test_dtype_argument_and_lists():
    np.testing.assert_array_equal(
        scanwise.cumsum([1, 2, 3], dtype=np.float32), np.cumsum([1, 2, 3], dtype=np.float32)
    )
    assert scanwise.cumsum([1, 2, 3], dtype=np.float32).dtype == np.float32
    assert scanwise.cumsum(np.ones(3, np.float32)).dtype == np.float32
    assert scanwise.discounted_cumsum(np.ones(3, np.float32), 0.9).dtype == np.float32
    assert scanwise.cumsum([True, True, False]).dtype == np.cumsum([True, True, False]).dtype
    np.testing.assert_array_equal(scanwise.cumsum([[1, 2], [3, 4]], axis=1), [[1, 3], [3, 7]])


@np.errstate(invalid="ignore")
def test_cumsum_keeps_negative_zero_and_nan():
    x = np.array([-0.0, -0.0, np.nan, 1.0])
    got = scanwise.cumsum(x)
    np.testing.assert_array_equal(got, np.cumsum(x))
    assert np.signbit(got[0]) and np.signbit(got[1])
    y = np.array([-1.0, 0.0, np.inf, 0.0, 2.0])
    np.testing.assert_array_equal(scanwise.cumprod(y), np.cumprod(y))
    assert np.signbit(scanwise.cumprod(y)[1])
    # a NaN before a reset does not leak through it
    np.testing.assert_array_equal(
        scanwise.cumsum([np.nan, 1.0, 2.0], reset=[0, 1, 0]), [np.nan, 1.0, 3.0]
    )
