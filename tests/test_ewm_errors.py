"""Every bad EWM argument raises TypeError/ValueError naming it."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import scanwise
from scanwise import reference

X = np.arange(6.0)
TIMES = np.datetime64("2024-01-01") + np.arange(6).astype("m8[h]")


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({}, ValueError, "one of alpha, com, span or halflife"),
        ({"alpha": 0.5, "span": 3}, ValueError, "mutually exclusive; got alpha and span"),
        ({"alpha": 0.0}, ValueError, "alpha must satisfy 0 < alpha <= 1"),
        ({"alpha": 1.5}, ValueError, "alpha must satisfy"),
        ({"alpha": float("nan")}, ValueError, "alpha must not be NaN"),
        ({"alpha": "0.5"}, TypeError, "alpha must be a real number"),
        ({"alpha": True}, TypeError, "alpha must be a real number"),
        ({"com": -0.1}, ValueError, "com must satisfy com >= 0"),
        ({"span": 0.5}, ValueError, "span must satisfy span >= 1"),
        ({"halflife": 0}, ValueError, "halflife must satisfy halflife > 0"),
        ({"halflife": "1h"}, ValueError, "halflife can be a timedelta .* only together with"),
        ({"alpha": 0.5, "min_periods": -1}, ValueError, "min_periods must be >= 0"),
        ({"alpha": 0.5, "min_periods": 1.5}, TypeError, "min_periods must be a non-negative"),
        ({"alpha": 0.5, "adjust": "yes"}, TypeError, "adjust must be True or False"),
        ({"alpha": 0.5, "ignore_na": None}, TypeError, "ignore_na must be True or False"),
        ({"alpha": 0.5, "times": TIMES}, ValueError, "times= needs halflife="),
        ({"halflife": "1h", "times": TIMES[:5]}, ValueError, "times has length 5, expected 6"),
        ({"halflife": "1h", "times": TIMES[::-1]}, ValueError, "times must be non-decreasing"),
        ({"halflife": "1h", "times": TIMES[None]}, ValueError, "times must be 1-D"),
        ({"halflife": 2.0, "times": TIMES}, ValueError, "with datetime times, halflife must be"),
        ({"halflife": "soon", "times": TIMES}, ValueError, "halflife 'soon' is not a time span"),
        ({"halflife": "1h", "times": ["a"] * 6}, TypeError, "times must be datetime64 or numeric"),
        ({"halflife": "1h", "times": np.arange(6.0)}, ValueError, "halflife must be a number"),
        ({"halflife": 1.0, "times": [0, 1, np.nan, 3, 4, 5]}, ValueError, "times must be finite"),
        ({"halflife": "1h", "times": np.r_[TIMES[:5], np.datetime64("NaT")]}, ValueError, "NaT"),
        # NaT first (no decreasing step) and NaT in a run: found in the pass over the times
        ({"halflife": "1h", "times": np.r_[np.datetime64("NaT"), TIMES[1:]]}, ValueError, "NaT"),
        ({"halflife": "1h", "times": np.r_[TIMES[:2], [np.datetime64("NaT")] * 2, TIMES[4:]]},
         ValueError, "NaT"),
        ({"alpha": 0.5, "reset": [True, False]}, ValueError, "reset with shape"),
        ({"alpha": 0.5, "out": np.empty(5)}, ValueError, "out has shape"),
        ({"alpha": 0.5, "out": np.empty(6, dtype=int)}, TypeError, "out has dtype"),
        ({"alpha": 0.5, "state": "s"}, TypeError, "state must be an EWMState"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        scanwise.ewm_mean(X, **kwargs)


def test_decay_parameters_are_checked_on_every_call():
    """Checked decays are remembered by value (small calls): a bad one still raises
    each time, and a good one given as int or float, by any parameter, gives pandas'
    alpha (com 1 == alpha 0.5 == span 3)."""
    for _ in range(3):
        with pytest.raises(ValueError, match="alpha must satisfy"):
            scanwise.ewm_mean(X, alpha=1.5)
        with pytest.raises(ValueError, match="span must satisfy"):
            scanwise.ewm_mean(X, span=0)
    want = reference.ewm(X, stat="mean", alpha=0.5)
    for kw in ({"alpha": 0.5}, {"com": 1}, {"com": 1.0}, {"span": 3}, {"span": 3.0}):
        np.testing.assert_allclose(scanwise.ewm_mean(X, **kw), want, rtol=1e-15)
    assert not np.allclose(scanwise.ewm_mean(X, com=2), want)  # a different decay


def test_bad_inputs():
    with pytest.raises(TypeError, match="x must be real"):
        scanwise.ewm_mean(X + 1j, alpha=0.5)
    with pytest.raises(TypeError, match="x must be a numeric array"):
        scanwise.ewm_var(["a", "b"], alpha=0.5)
    with pytest.raises(ValueError, match=r"x with shape .* and y with shape .* do not broadcast"):
        scanwise.ewm_cov(X, X[:4], alpha=0.5)
    with pytest.raises(ValueError, match="axis must be given"):
        scanwise.ewm_mean(np.zeros((3, 3)), alpha=0.5)
    with pytest.raises(np.exceptions.AxisError):
        scanwise.ewm_mean(np.zeros((3, 3)), axis=2, alpha=0.5)
    with pytest.raises(TypeError, match="bias must be True or False"):
        scanwise.ewm_var(X, alpha=0.5, bias=1)


def test_nat_after_a_state_is_named():
    _, st = scanwise.ewm_mean(X[:3], halflife="1h", times=TIMES[:3], return_state=True)
    nat_first = np.r_[np.datetime64("NaT"), TIMES[4:]].astype(TIMES.dtype)
    with pytest.raises(ValueError, match="NaT"):
        scanwise.ewm_mean(X[3:], halflife="1h", times=nat_first, state=st)
    with pytest.raises(ValueError, match="continue after the state's last time"):
        scanwise.ewm_mean(X[3:], halflife="1h", times=TIMES[:3], state=st)


def test_state_must_fit():
    _, st = scanwise.ewm_mean(np.zeros((4, 2)), axis=0, alpha=0.5, return_state=True)
    with pytest.raises(ValueError, match="state has shape"):
        scanwise.ewm_mean(np.zeros((4, 3)), axis=0, alpha=0.5, state=st)
    with pytest.raises(ValueError, match="state comes from an ewm mean scan, not cov"):
        scanwise.ewm_var(np.zeros((4, 2)), axis=0, alpha=0.5, state=st)
    with pytest.raises(ValueError, match="state was computed with"):
        scanwise.ewm_mean(np.zeros((4, 2)), axis=0, alpha=0.25, state=st)
    with pytest.raises(ValueError, match="state was computed with"):
        scanwise.ewm_mean(np.zeros((4, 2)), axis=0, alpha=0.5, adjust=False, state=st)
    _, st = scanwise.ewm_mean(X, halflife="1h", times=TIMES, return_state=True)
    with pytest.raises(ValueError, match="times must continue after the state's last time"):
        scanwise.ewm_mean(X, halflife="1h", times=TIMES, state=st)
    later = TIMES + np.timedelta64(6, "h")
    assert scanwise.ewm_mean(X, halflife=datetime.timedelta(hours=1), times=later, state=st).shape
