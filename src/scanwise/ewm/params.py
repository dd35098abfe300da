"""Decay parameters and ``times`` for the EWM family, checked and converted as pandas does.

* ``com``, ``span``, ``halflife`` and ``alpha`` are converted to a centre of mass with
  pandas' formulas (same floating-point operations, so ``alpha`` is bit-identical):
  ``span -> (span - 1) / 2``; ``halflife -> 1 / (1 - exp(log(0.5) / halflife)) - 1``;
  ``alpha -> (1 - alpha) / alpha``; then ``alpha = 1 / (1 + com)``.
* With ``times``, ``halflife`` (and only it) gives the decay: step ``t`` multiplies the
  old weights by ``0.5 ** ((times[t] - times[t-1]) / halflife)``.  Datetime differences
  are taken on the int64 values converted to float64, as pandas does.
"""

from __future__ import annotations

import datetime
import math
import numbers
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

_NAMES = ("alpha", "com", "span", "halflife")


@dataclass(frozen=True)
class Decay:
    """A checked decay: ``alpha`` per regular step, or a halflife in ``times`` units."""

    com: float
    alpha: float
    halflife: float | None  # in the units of ``times`` (None without times)
    times_unit: str | None  # "numeric", a datetime64 unit, or None without times


def _is_timedelta(value: Any) -> bool:
    return isinstance(value, (str, datetime.timedelta, np.timedelta64))


def _real(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if math.isnan(out):
        raise ValueError(f"{name} must not be NaN")
    return out


_CACHEABLE = frozenset((type(None), float, int, str))
_DECAYS: dict[tuple[Any, ...], Decay] = {}


def decay(
    alpha: Any, com: Any, span: Any, halflife: Any, times_unit: str | None
) -> Decay:
    """Check that exactly one decay parameter is given and convert it (see module doc).

    Plain Python numbers and strings are remembered (up to 256 keys; a small call spent
    3 us here)."""
    key = (alpha, com, span, halflife, times_unit)
    if _CACHEABLE.issuperset(map(type, key)):
        hit = _DECAYS.get(key)
        if hit is None:
            hit = _decay(*key)
            if len(_DECAYS) < 256:
                _DECAYS[key] = hit
        return hit
    return _decay(*key)


def _decay(
    alpha: Any, com: Any, span: Any, halflife: Any, times_unit: str | None
) -> Decay:
    values = (alpha, com, span, halflife)
    given = {n: v for n, v in zip(_NAMES, values, strict=True) if v is not None}
    if not given:
        raise ValueError("one of alpha, com, span or halflife must be given")
    if len(given) > 1:
        raise ValueError(
            f"alpha, com, span and halflife are mutually exclusive; got {' and '.join(given)}"
        )
    if times_unit is not None:
        if halflife is None:
            raise ValueError(
                f"times= needs halflife= (the decay per unit of time), got {next(iter(given))}"
            )
        return Decay(1.0, 0.5, _halflife_in(halflife, times_unit), times_unit)
    if halflife is not None and _is_timedelta(halflife):
        raise ValueError("halflife can be a timedelta (or string) only together with times=")
    if com is not None:
        c = _real(com, "com")
        if c < 0:
            raise ValueError(f"com must satisfy com >= 0, got {c}")
    elif span is not None:
        s = _real(span, "span")
        if s < 1:
            raise ValueError(f"span must satisfy span >= 1, got {s}")
        c = (s - 1) / 2
    elif halflife is not None:
        h = _real(halflife, "halflife")
        if h <= 0:
            raise ValueError(f"halflife must satisfy halflife > 0, got {h}")
        # an infinite halflife is alpha = 0, the expanding mean, as pandas' com=inf and
        # span=inf are (pandas warns on its division by zero; none reaches the user here)
        c = math.inf if math.isinf(h) else 1 / (1 - np.exp(np.log(0.5) / h)) - 1
    else:
        a = _real(alpha, "alpha")
        if not 0 < a <= 1:
            raise ValueError(f"alpha must satisfy 0 < alpha <= 1, got {a}")
        c = (1 - a) / a
    c = float(c)
    return Decay(c, 1.0 / (1.0 + c), None, None)


def _halflife_in(halflife: Any, unit: str) -> float:
    """The halflife as a number of ``times`` units."""
    if unit == "numeric":
        if _is_timedelta(halflife):
            raise ValueError("halflife must be a number when times are numeric")
        h = _real(halflife, "halflife")
    else:
        if isinstance(halflife, str):
            pd = sys.modules.get("pandas")
            if pd is None:
                try:
                    import pandas as pd
                except ImportError:  # pragma: no cover - pandas is in the test env
                    raise ValueError(
                        "a string halflife needs pandas; pass a numpy.timedelta64"
                    ) from None
            try:
                td = pd.Timedelta(halflife).to_timedelta64()
            except ValueError as exc:
                raise ValueError(f"halflife {halflife!r} is not a time span: {exc}") from None
        elif hasattr(halflife, "to_timedelta64"):
            td = halflife.to_timedelta64()
        elif isinstance(halflife, (datetime.timedelta, np.timedelta64)):
            td = np.timedelta64(halflife)
        else:
            raise ValueError(
                "with datetime times, halflife must be a timedelta, numpy.timedelta64, "
                f"pandas.Timedelta or a string like '15min', got {halflife!r}"
            )
        if np.isnat(td):
            raise ValueError("halflife must not be NaT")
        h = float(td / np.timedelta64(1, unit))
    if not h > 0:
        raise ValueError(f"halflife must be positive, got {halflife!r}")
    return h


def as_times(times: Any, n_t: int, check_nat: bool = True) -> tuple[np.ndarray, str]:
    """``times`` as int64 ticks (datetime64) or float64 numbers, and its unit.

    Checks shape, dtype, NaN and (``check_nat``) NaT; the order is checked by
    :func:`step_factors`, which finds NaT as well: callers that run it on the same times
    pass ``check_nat=False`` and save a pass over them.
    """
    if getattr(times, "tz", None) is not None:  # tz-aware pandas DatetimeIndex
        times = times.tz_convert("UTC").tz_localize(None)
    elif getattr(getattr(times, "dt", None), "tz", None) is not None:  # tz-aware Series
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        arr = np.asarray(times)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"times must be an array of numbers or datetimes: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"times must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n_t:
        raise ValueError(f"times has length {arr.shape[0]}, expected {n_t} (the scan axis)")
    if arr.dtype.kind == "M":
        unit, count = np.datetime_data(arr.dtype)
        if unit in ("Y", "M", "generic") or count != 1:
            raise ValueError(f"times has unsupported datetime unit {arr.dtype}")
        ticks = arr.view(np.int64)
        # NaT is the smallest int64: a min reduction finds it (2e6 times: 0.6-1.5 ms,
        # ``np.isnat(arr).any()`` 2.0-2.2 ms)
        if check_nat and ticks.size and ticks.min() == np.iinfo(np.int64).min:
            raise _nat_error()
        return ticks, unit
    if arr.dtype.kind in "iuf":
        values = arr.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("times must be finite (no NaN or inf)")
        return values, "numeric"
    raise TypeError(f"times must be datetime64 or numeric, got dtype {arr.dtype}")


def _nat_error() -> ValueError:
    return ValueError("times must not contain NaT")


def last_value(values: np.ndarray) -> float:
    """The last time as the float64 the state keeps (pandas converts before diffing)."""
    return float(np.float64(values[-1]))


def step_factors(values: np.ndarray, halflife: float, last_time: float | None) -> np.ndarray:
    """Per-step decay ``0.5 ** (dt / halflife)``; step 0 uses the state's last time.

    Raises ``ValueError`` for NaT (int64 ticks) and unless ``times`` (and the state's
    last time) are non-decreasing.
    """
    from .._kernels.ewm import decay_factors

    factor = np.empty(values.shape[0], dtype=np.float64)
    # the first step's factor comes from the kernel too: chunked calls round as one call
    first = np.nan if last_time is None else float(last_time)
    bad, nat = decay_factors(values, float(halflife), first, values.dtype == np.int64, factor)
    if nat:
        raise _nat_error()
    if values.shape[0] and last_time is not None:
        if float(np.float64(values[0])) < last_time:
            raise ValueError("times must continue after the state's last time (non-decreasing)")
    if bad:
        raise ValueError("times must be non-decreasing")
    return factor
