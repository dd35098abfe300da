"""``exp`` and ``log1p`` on the ranges ``logaddexp`` needs, written so LLVM vectorises them.

numba calls libm for ``math.exp`` / ``math.log1p``: one scalar call per element, which
keeps a lane loop from vectorising (numba only vectorises them with Intel's SVML, an
extra dependency).  These are branch-free float64 polynomials (selects, no calls), with
at most about 1 ulp of error (checked against NumPy in ``tests/test_vecmath.py``):

* :func:`exp_nonpos`: ``exp(d)`` for ``d <= 0`` (and ``-inf``): ``d = k ln2 + r`` with
  ``|r| <= ln2 / 2`` (Cody-Waite, fdlibm's split of ln2), ``exp(r)`` by its Taylor
  polynomial of degree 13 (truncation error < 5e-18), times ``2**k`` built from its bits
  in two halves so that subnormal results round as in libm;
* :func:`exp_any`: ``exp(d)`` for any ``d`` the same way (``inf`` past overflow);
* :func:`exp2_nonpos`: ``2 ** e`` for ``e <= 0`` the same way (``e = k + r/ln2``);
* :func:`log1p_unit`: ``log1p(u)`` for ``0 <= u <= 1``: ``1 + u = 2**k (1 + f)`` with
  ``sqrt(2)/2 <= 1 + f <= sqrt(2)``, ``log(1 + f)`` with fdlibm's ``__ieee754_log``
  polynomial in ``s = f / (2 + f)``, plus the rounding error of ``1 + u`` (as fdlibm's
  ``log1p``).

NaN inputs give meaningless numbers here: callers select NaN themselves.

And a division that costs one reciprocal per divisor (:func:`div_rn`): the EW variance
divides by the same total weight two or three times per step, and a vector division
is the slowest thing a core does (Intel Golden Cove: one ``vdivpd`` of 4 lanes per 8
cycles; AMD Zen 3: per 4-5).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with the low bits zero: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_LN2 = 6.93147180559945286227e-01
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer in the low bits
_SQRT2_M1 = 0.41421356237309504880
# fdlibm e_log.c: Lg1..Lg7
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@intrinsic
def _bits(typingctx, x):  # pragma: no cover - compiled
    """The IEEE bits of a float64 (float32) as an int64 (int32)."""
    if x not in (types.float64, types.float32):
        return None
    width = 64 if x == types.float64 else 32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(width))

    return getattr(types, f"int{width}")(x), codegen


@intrinsic
def _from_bits(typingctx, n):  # pragma: no cover - compiled
    """The float64 whose IEEE bits are the int64 ``n``."""
    if n != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(n), codegen


@intrinsic
def fma(typingctx, a, b, c):  # pragma: no cover - compiled
    """``a * b + c`` rounded once (``llvm.fma``: one instruction where the CPU has FMA,
    which LLVM vectorises; a correctly rounded libm call elsewhere)."""
    if not (a == b == c == types.float64):
        return None

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(a, b, c), codegen


@njit(forceinline=True)
def div_rn(a, b, y):  # pragma: no cover - numba
    """``a / b`` correctly rounded, as the division itself, from ``y = 1.0 / b``.

    Markstein's correction (Handbook of Floating-Point Arithmetic, 2nd ed., 4.7; Intel
    Itanium's division): with ``y`` the correctly rounded reciprocal and ``q`` within an
    ulp of ``a / b``, the residual ``r = a - b*q`` is exact in one FMA and
    ``q + r*y``, rounded once, is ``a / b`` rounded to nearest.  ``a * y`` alone can miss
    by an ulp and a half, so a first correction brings it within half an ulp plus a
    hair, and the second is Markstein's.  Five multiply-adds, no division: for a
    divisor shared by several quotients this costs one reciprocal in all.  Where ``a *
    y`` is zero, infinite or NaN it is the quotient already (zero or non-finite
    operands, whose residuals are NaN) and is returned as it is.  The same bits as
    ``a / b`` for every operand except results in the subnormal range (``a * y`` may
    lose its last bits there); tested against NumPy's division (``tests/test_vecmath.py``).
    """
    q0 = a * y
    q1 = fma(fma(-b, q0, a), y, q0)
    q2 = fma(fma(-b, q1, a), y, q1)
    return q2 if (q0 != 0.0) & (q0 - q0 == 0.0) else q0


@njit(inline="always")
def _pow2(k):  # pragma: no cover - numba
    """``2.0 ** k`` for an integer-valued float ``-1022 <= k <= 1023``."""
    return _from_bits(_bits(k + (1023.0 + _SHIFTER)) << 52)


@njit(inline="always")
def _exp_scaled(k, r):  # pragma: no cover - numba
    """``2**k * exp(r)`` for an integer-valued ``-1076 <= k <= 1039`` and ``|r| <= ln2 / 2``
    (each of the two factors of ``2**k`` stays a normal number; from ``k = 1024`` on the
    product overflows to ``inf``)."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    k1 = (k * 0.5 + _SHIFTER) - _SHIFTER  # two factors, each a normal number
    return p * _pow2(k1) * _pow2(k - k1)


@njit(inline="always")
def exp_nonpos(d):  # pragma: no cover - numba
    """``exp(d)`` for ``d <= 0``, ``d = -inf`` included (gives 0)."""
    d = d if d > -746.0 else -746.0  # exp(-746) rounds to 0 already
    k = (d * _INV_LN2 + _SHIFTER) - _SHIFTER  # nearest integer to d / ln 2, in [-1076, 0]
    return _exp_scaled(k, (d - k * _LN2_HI) - k * _LN2_LO)


@njit(inline="always")
def _exp_any64(d):  # pragma: no cover - numba
    d = d if d > -746.0 else -746.0
    d = d if d < 720.0 else 720.0  # 2**1039 overflows in the product below, as it should
    k = (d * _INV_LN2 + _SHIFTER) - _SHIFTER
    return _exp_scaled(k, (d - k * _LN2_HI) - k * _LN2_LO)


@intrinsic
def _from_bits32(typingctx, n):  # pragma: no cover - compiled
    """The float32 whose IEEE bits are the low 32 bits of the integer ``n``."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        low = args[0] if n.bitwidth == 32 else builder.trunc(args[0], ir.IntType(32))
        return builder.bitcast(low, ir.FloatType())

    return types.float32(n), codegen


_F = np.float32
_SHIFTER_F = _F(12582912.0)  # 1.5 * 2**23
_BIAS_F = _F(127.0 + 12582912.0)
_INV_LN2_F = _F(1.4426950408889634)
_LN2_C1_F = _F(0.693359375)  # Cephes expf's split of ln 2: k * C1 is exact
_LN2_C2_F = _F(-2.12194440e-4)
_EXPF_P = tuple(_F(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))


@njit(inline="always")
def _pow2_f32(k):  # pragma: no cover - numba
    """``2 ** k`` for an integer-valued float32 ``-126 <= k <= 127``."""
    return _from_bits32(_bits(k + _BIAS_F) << 23)


@njit(inline="always")
def _exp_any32(d):  # pragma: no cover - numba
    """Cephes ``expf`` (its polynomial on ``|r| <= ln2 / 2``), scaled as :func:`_exp_scaled`
    (two normal factors of ``2**k``, so subnormal results round once)."""
    d = d if d > _F(-104.0) else _F(-104.0)  # exp(-104) rounds to 0 in float32
    d = d if d < _F(89.0) else _F(89.0)  # exp(89) overflows to inf, as it should
    k = (d * _INV_LN2_F + _SHIFTER_F) - _SHIFTER_F
    r = (d - k * _LN2_C1_F) - k * _LN2_C2_F
    p0, p1, p2, p3, p4, p5 = _EXPF_P
    p = ((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5
    y = p * (r * r) + r + _F(1.0)
    k1 = (k * _F(0.5) + _SHIFTER_F) - _SHIFTER_F
    return y * _pow2_f32(k1) * _pow2_f32(k - k1)


def exp_any(d):  # pragma: no cover - only called inside jitted code
    """``exp(d)`` for any non-NaN ``d``, in ``d``'s precision: 0 below the smallest
    subnormal, ``inf`` past the overflow.  float64: as :func:`exp_nonpos`, within 1 ulp;
    float32: Cephes ``expf``, within 2 ulp (a float32 lane loop stays 16 lanes wide).
    Where the sign of ``d`` varies, ``1 / exp_nonpos(-|d|)`` would need a division
    under a select, which kept V-trace's lane loop scalar (10 ns an element against
    1.5)."""
    raise NotImplementedError("exp_any() is only usable from numba-compiled code")


@overload(exp_any, inline="always")
def _exp_any_overload(d):
    if d == types.float32:
        return lambda d: _exp_any32(d)
    return lambda d: _exp_any64(np.float64(d))


@njit(inline="always")
def exp2_nonpos(e):  # pragma: no cover - numba
    """``2 ** e`` for ``e <= 0``, ``e = -inf`` included (gives 0)."""
    e = e if e > -1076.0 else -1076.0  # 2 ** -1076 rounds to 0 already
    k = (e + _SHIFTER) - _SHIFTER  # nearest integer, e - k is exact
    return _exp_scaled(k, (e - k) * _LN2)


@njit(inline="always")
def log1p_unit(u):  # pragma: no cover - numba
    """``log1p(u)`` for ``0 <= u <= 1``."""
    w = 1.0 + u
    big = u > _SQRT2_M1
    f = w * 0.5 - 1.0 if big else u  # exact either way
    c = (u - (w - 1.0)) / w if big else 0.0  # rounding error of w, as a log increment
    k = 1.0 if big else 0.0
    s = f / (2.0 + f)
    z = s * s
    z2 = z * z
    t1 = z2 * (_LG2 + z2 * (_LG4 + z2 * _LG6))
    t2 = z * (_LG1 + z2 * (_LG3 + z2 * (_LG5 + z2 * _LG7)))
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + (k * _LN2_LO + c))) - f)
