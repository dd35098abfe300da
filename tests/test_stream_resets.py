"""Streaming across resets: ``initial`` is the carried state, ``reset_value`` the restart.

The oracle is a plain loop written here (not :mod:`scanwise.reference`): one series at a
time, the state starting at ``initial`` (or the identity) and replaced by ``reset_value``
(or the identity) before every reset step, the first step included.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scanwise

# op name -> (step(h, a, x), identity)
STEPS = {
    "cumsum": (lambda h, a, x: h + x, 0.0),
    "cumprod": (lambda h, a, x: h * x, 1.0),
    "logcumsumexp": (lambda h, a, x: np.logaddexp(h, x), -math.inf),
    "linear_recurrence": (lambda h, a, x: a * h + x, 0.0),
    "discounted_cumsum": (lambda h, a, x: a * h + x, 0.0),
}
OPS = sorted(STEPS)


def loop(op, x, a, reset, initial, reset_value, reverse):
    """The oracle: 1-D ``x`` (and ``a``, ``reset``), scalar ``initial``/``reset_value``."""
    step, identity = STEPS[op]
    order = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    h = identity if initial is None else initial
    out = np.empty(len(x))
    for t in order:
        if reset is not None and reset[t]:
            h = identity if reset_value is None else reset_value
        h = step(h, a[t], x[t])
        out[t] = h
    return out


def call(op, x, a, axis, **kw):
    """The scanwise op; ``a`` is the per-step coefficient of the linear ops."""
    if op == "linear_recurrence":
        return scanwise.linear_recurrence(a, x, axis=axis, **kw)
    if op == "discounted_cumsum":
        return scanwise.discounted_cumsum(x, a, axis=axis, **kw)
    return getattr(scanwise, op)(x, axis=axis, **kw)


def _take(arr, axis, s):
    idx = [slice(None)] * arr.ndim
    idx[axis] = s
    return arr[tuple(idx)]


def test_the_issue_example():
    x = np.ones(8)
    r = np.arange(8) == 5
    a = scanwise.cumsum(x[:4], reset=r[:4])
    np.testing.assert_array_equal(
        scanwise.cumsum(x[4:], reset=r[4:], initial=a[-1]), [5.0, 1.0, 2.0, 3.0]
    )
    np.testing.assert_array_equal(scanwise.cumsum(x, reset=r), [1, 2, 3, 4, 5, 1, 2, 3])


def test_reset_on_the_first_step_wins_over_initial():
    assert scanwise.cumsum([1.0, 1.0], reset=[1, 0], initial=10.0).tolist() == [1.0, 2.0]
    got = scanwise.cumsum([1.0, 1.0], reset=[1, 0], initial=10.0, reset_value=3.0)
    assert got.tolist() == [4.0, 5.0]
    assert scanwise.cumprod([2.0, 2.0], reset=[1, 0], initial=10.0).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("op", OPS)
def test_reset_value_and_initial_are_apart(op):
    x = np.array([0.5, -1.0, 2.0, 0.25, 1.5])
    a = np.array([0.9, 1.1, -0.5, 0.7, 1.0])
    reset = np.array([False, False, True, False, True])
    for reverse in (False, True):
        for initial, rval in ((None, None), (2.0, None), (None, -0.75), (2.0, -0.75)):
            got = call(op, x, a, 0, reset=reset, initial=initial, reset_value=rval,
                       reverse=reverse)
            want = loop(op, x, a, reset, initial, rval, reverse)
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@st.composite
def streams(draw):
    """A 2-D case: axis, length, chunk borders, reset positions (some on borders)."""
    n = draw(st.integers(1, 40))
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=4))))
    borders = [0, *cuts, n]
    on_border = draw(st.booleans())
    resets = set(draw(st.lists(st.integers(0, n - 1), max_size=6)))
    if on_border:
        resets |= {c for c in cuts if c < n}
    return n, borders, sorted(resets)


@given(st.data(), streams(), st.sampled_from(OPS), st.booleans(), st.booleans(),
       st.booleans())
def test_streamed_calls_equal_one_call_and_the_loop(data, case, op, reverse, use_init,
                                                    use_rval):
    n, borders, reset_at = case
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    axis = data.draw(st.sampled_from([0, 1]))
    series = 3
    shape = (n, series) if axis == 0 else (series, n)
    x = rng.uniform(-1.0, 1.0, shape)
    if op == "cumprod":
        x = rng.uniform(0.5, 1.5, shape)
    a = rng.uniform(-1.0, 1.0, shape)
    reset = np.zeros(shape, dtype=bool)
    _take(reset, axis, reset_at)[...] = True
    initial = rng.uniform(-1.0, 1.0, series) if use_init else None
    rval = rng.uniform(-1.0, 1.0, series) if use_rval else None
    kw = {"reverse": reverse, "reset_value": rval}

    whole = call(op, x, a, axis, reset=reset, initial=initial, **kw)
    for s in range(series):
        pick = (slice(None), s) if axis == 0 else (s, slice(None))
        want = loop(op, x[pick], a[pick], reset[pick], None if initial is None else
                    initial[s], None if rval is None else rval[s], reverse)
        np.testing.assert_allclose(whole[pick], want, rtol=1e-12, atol=1e-12)

    # streamed: chunks in scan order, each starting from the last slice of the previous
    spans = list(itertools.pairwise(borders))
    state = initial
    for lo, hi in (reversed(spans) if reverse else spans):
        part = slice(lo, hi)
        got = call(op, _take(x, axis, part), _take(a, axis, part), axis,
                   reset=_take(reset, axis, part), initial=state, **kw)
        np.testing.assert_array_equal(got, _take(whole, axis, part))
        if hi > lo:
            state = got.take(0 if reverse else -1, axis=axis)


@pytest.mark.parametrize("op", OPS)
def test_chunk_parallel_path_keeps_the_rule(op):
    """The reduce-then-scan kernel (a few long series) applies the same rule."""
    from scanwise import _layout

    rng = np.random.default_rng(7)
    n = 64
    x = rng.uniform(0.5, 1.5, n)
    a = rng.uniform(-1.0, 1.0, n)
    reset = rng.random(n) < 0.1
    reset[0] = reset[10] = True
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_layout, "CHUNKED_MIN_T", 8)
        mp.setattr(_layout, "CHUNK", 5)
        for reverse in (False, True):
            got = call(op, x, a, 0, reset=reset, initial=0.3, reset_value=-0.2,
                       reverse=reverse)
            want = loop(op, x, a, reset, 0.3, -0.2, reverse)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_include_initial_prepends_initial_not_reset_value():
    got = scanwise.cumsum([1.0, 2.0], include_initial=True, initial=5.0, reset_value=9.0,
                          reset=[0, 1])
    assert got.tolist() == [5.0, 6.0, 11.0]


def test_reset_value_promotes_and_is_checked():
    assert scanwise.cumsum([1, 2], reset=[0, 1], reset_value=0.5).dtype == np.float64
    with pytest.raises(ValueError, match="reset_value with shape"):
        scanwise.cumsum(np.ones((3, 2)), axis=0, reset_value=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="reset_value"):
        scanwise.cumsum([1.0, 2.0], reset_value="a")
    with pytest.raises(TypeError, match="reset_value is complex"):
        scanwise.logcumsumexp([1.0, 2.0], reset=[0, 1], reset_value=1j)


@pytest.mark.parametrize("op", OPS)
def test_dask_chunks_equal_numpy_with_resets_on_borders(op):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(3)
    n = 23
    x = rng.uniform(0.5, 1.5, (n, 4))
    a = rng.uniform(-1.0, 1.0, (n, 4))
    reset = rng.random((n, 4)) < 0.15
    reset[[5, 10, 15]] = True  # on the chunk borders below
    chunks = ((5, 5, 5, 8), (2, 2))
    for reverse in (False, True):
        kw = {"reset": reset, "initial": np.full(4, 0.25), "reset_value": np.full(4, -0.5),
              "reverse": reverse}
        want = call(op, x, a, 0, **kw)
        xd = da.from_array(x, chunks=chunks)
        got = call(op, xd, da.from_array(a, chunks=chunks), 0,
                   **{**kw, "reset": da.from_array(reset, chunks=chunks)})
        np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)
