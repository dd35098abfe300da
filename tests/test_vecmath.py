"""The vectorisable exp/log1p of ``scanwise._kernels.vecmath`` against NumPy (libm)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from scanwise._kernels.vecmath import div_rn, exp2_nonpos, exp_any, exp_nonpos, log1p_unit


def _elementwise(fn, contract=False):
    """A compiled loop applying the scalar numba function ``fn`` to every element
    (``contract``: with ``a * b + c`` fused into FMAs, as the kernels that use it)."""

    @njit(fastmath={"contract"} if contract else False)
    def apply(a):
        out = np.empty_like(a)
        for i in range(a.size):
            out[i] = fn(a[i])
        return out

    return apply


_exp = _elementwise(exp_nonpos)
_exp2 = _elementwise(exp2_nonpos)
_exp_any = _elementwise(exp_any)
_log1p = _elementwise(log1p_unit)
# as compiled in the kernels: ``logaddexp`` and ``decay_factors`` fuse multiply-adds
FUSED = {
    "exp": _elementwise(exp_nonpos, True),
    "exp2": _elementwise(exp2_nonpos, True),
    "log1p": _elementwise(log1p_unit, True),
}


def _ulps(got, want):
    return float(np.max(np.abs(got - want) / np.spacing(np.abs(want))))


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1.0, 40.0, 700.0, 745.5])
def test_exp_nonpos_within_one_ulp(rng, scale):
    d = -rng.random(200_000) * scale
    assert _ulps(_exp(d), np.exp(d)) <= 1.0


def test_exp_nonpos_special_values():
    d = np.array([0.0, -0.0, -np.inf, -746.0, -745.1, -744.0, -708.5, -709.9, -1e4])
    np.testing.assert_array_equal(_exp(d), np.exp(d))


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1.0, 40.0, 700.0, 709.7])
def test_exp_any_within_one_ulp(rng, scale):
    d = rng.uniform(-1.0, 1.0, 200_000) * scale
    assert _ulps(_exp_any(d), np.exp(d)) <= 1.0


@pytest.mark.parametrize("scale", [1e-30, 1e-4, 1.0, 20.0, 88.0])
def test_exp_any_float32_within_two_ulps(rng, scale):
    d = (rng.uniform(-1.0, 1.0, 200_000) * scale).astype(np.float32)
    want = np.exp(d.astype(np.float64)).astype(np.float32)
    got = _exp_any(d)
    assert got.dtype == np.float32
    assert float(np.max(np.abs(got - want) / np.spacing(want))) <= 2.0


def test_exp_any_float32_subnormal_overflow_and_special_values():
    d = np.array([0.0, -0.0, -np.inf, np.inf, -104.0, -103.9, -103.2, -87.5, 88.72, 88.73,
                  89.0, 1e4, -1e4], dtype=np.float32)
    with np.errstate(over="ignore"):
        want = np.exp(d.astype(np.float64)).astype(np.float32)
    got = _exp_any(d)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got == 0, want == 0)
    sub = np.linspace(-103.9, -87.4, 10_001, dtype=np.float32)  # subnormal results
    want = np.exp(sub.astype(np.float64)).astype(np.float32)
    assert np.max(np.abs(_exp_any(sub) - want)) <= np.float32(1.5e-45)


def test_exp_any_subnormal_overflow_and_special_values():
    d = np.array([0.0, -0.0, -np.inf, np.inf, -746.0, -745.1, -709.9, 709.78, 709.79, 720.0,
                  1e4, -1e4])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(_exp_any(d), np.exp(d))
    sub = np.linspace(-745.1, -708.5, 10_001)  # subnormal results: within one unit of 2**-1074
    assert np.max(np.abs(_exp_any(sub) - np.exp(sub))) <= 5e-324


@pytest.mark.parametrize("scale", [1e-300, 1e-10, 1e-3, 0.4142, 0.42, 1.0])
def test_log1p_unit_within_one_ulp(rng, scale):
    u = rng.random(200_000) * scale
    assert _ulps(_log1p(u), np.log1p(u)) <= 1.0


def test_log1p_unit_special_values():
    u = np.array([0.0, 1.0, np.sqrt(2) - 1, np.nextafter(np.sqrt(2) - 1, 0), 5e-324])
    np.testing.assert_allclose(_log1p(u), np.log1p(u), rtol=2.3e-16, atol=0)


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1.0, 60.0, 1000.0, 1075.5])
def test_exp2_nonpos_within_one_ulp(rng, scale):
    e = -rng.random(200_000) * scale
    assert _ulps(_exp2(e), np.exp2(e)) <= 1.0


def test_exp2_nonpos_special_values():
    e = np.array([0.0, -0.0, -np.inf, -1.0, -1022.0, -1074.0, -1075.0, -1076.0, -1e5, -1074.5])
    np.testing.assert_array_equal(_exp2(e), np.exp2(e))


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1.0, 40.0, 700.0, 745.5, 1075.5])
def test_fused_multiply_add_versions_within_one_ulp(rng, scale):
    """The kernels compile these with FMAs (one rounding where there were two): still
    within 1 ulp of libm, and at the special values exactly libm's."""
    e = -rng.random(200_000) * scale
    assert _ulps(FUSED["exp2"](e), np.exp2(e)) <= 1.0
    d = np.maximum(e, -745.5)
    assert _ulps(FUSED["exp"](d), np.exp(d)) <= 1.0
    u = rng.random(200_000) * min(scale, 1.0)
    assert _ulps(FUSED["log1p"](u), np.log1p(u)) <= 1.0
    special = np.array([0.0, -0.0, -np.inf, -746.0, -745.1, -744.0, -708.5, -709.9, -1e4])
    np.testing.assert_array_equal(FUSED["exp"](special), np.exp(special))
    np.testing.assert_array_equal(FUSED["exp2"](special * 1.5), np.exp2(special * 1.5))


@njit(error_model="numpy")  # as the kernels: x / 0 is inf, not an exception
def _div_rn_all(a, b):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = div_rn(a[i], b[i], 1.0 / b[i])
    return out


@njit(error_model="numpy")
def _plain_product(a, b):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = a[i] * (1.0 / b[i])
    return out


def _division_cases(rng, n):
    """Dividends and divisors as the EW kernels meet them (weights from 1 to 1e4, means
    near and far from 0, tiny co-moments) and with random mantissas and exponents."""
    mant = lambda k: 1.0 + rng.random(k)  # noqa: E731
    cases = [
        (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 9, n), 1.0 + rng.random(n) * 30),
        (1234567.891 * (1 + 1e-9 * rng.standard_normal(n)) * (1 + 20 * rng.random(n)),
         1.0 + rng.random(n) * 20),
        (mant(n) * 2.0 ** rng.integers(-900, 900, n), mant(n) * 2.0 ** rng.integers(-100, 100, n)),
        (rng.standard_normal(n) * 1e-12, 1.0 + rng.random(n) * 1e4),
        # divisors with all-ones and all-zeros mantissas, dividends next to them
        (np.nextafter(np.arange(1.0, n + 1.0), np.inf), np.full(n, np.nextafter(2.0, 0.0))),
        (np.arange(1.0, n + 1.0) * 3.0, np.full(n, 3.0)),
    ]
    return [(a.astype(np.float64), b.astype(np.float64)) for a, b in cases]


def test_div_rn_is_the_division(rng):
    for a, b in _division_cases(rng, 400_000):
        want = a / b
        got = _div_rn_all(a, b)
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))  # bits


def test_div_rn_needs_its_corrections(rng):
    # the product by the reciprocal alone is not the division: the test above can fail
    a, b = _division_cases(rng, 400_000)[0]
    assert np.count_nonzero(_plain_product(a, b) != a / b) > 1000


def test_div_rn_zero_inf_and_nan():
    special = np.array([0.0, -0.0, 1.0, -2.5, 3.0, np.inf, -np.inf, np.nan, 1e300, 1e-300])
    a, b = (g.ravel() for g in np.meshgrid(special, special))
    with np.errstate(all="ignore"):
        want = a / b
    got = _div_rn_all(a, b)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))

