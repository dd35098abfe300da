"""Streaming state, resets, layouts and thread counts of the EWM family (properties)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from ewm_data import DECAYS, with_nans
from hypothesis import given
from hypothesis import strategies as st
from layouts import LAYOUTS, relayout

import scanwise
from scanwise import reference

STATS = st.sampled_from(["mean", "var", "std", "cov", "corr"])


def _call(stat, x, y, **kw):
    fn = getattr(scanwise, f"ewm_{stat}")
    return fn(x, y, **kw) if stat in ("cov", "corr") else fn(x, **kw)


@given(
    st.data(),
    STATS,
    st.sampled_from(range(len(DECAYS))),
    st.booleans(),
    st.booleans(),
    st.integers(0, 4),
    st.booleans(),
)
def test_any_chunking_gives_the_one_call_result(
    data, stat, decay, adjust, ignore_na, min_periods, use_times
):
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_t = data.draw(st.integers(0, 60))
    x = with_nans(rng, n_t, 6, frac=data.draw(st.sampled_from([0.0, 0.2, 0.6])))
    y = x + rng.standard_normal(x.shape)
    reset = rng.random((n_t, 6)) < data.draw(st.sampled_from([0.0, 0.1]))
    kw = dict(adjust=adjust, ignore_na=ignore_na, min_periods=min_periods, axis=0)
    times = None
    if use_times:
        times = np.cumsum(rng.exponential(1.0, n_t) * (rng.random(n_t) < 0.9))
        kw["halflife"] = 1.5
    else:
        kw.update(DECAYS[decay])
    if stat not in ("mean",) and "bias" not in kw and stat != "corr":
        kw["bias"] = data.draw(st.booleans())
    whole = _call(stat, x, y, times=times, reset=reset, **kw)
    cuts = sorted(data.draw(st.lists(st.integers(0, n_t), max_size=4)))
    parts, state = [], None
    for lo, hi in zip([0, *cuts], [*cuts, n_t], strict=True):
        part, state = _call(
            stat, x[lo:hi], y[lo:hi], times=None if times is None else times[lo:hi],
            reset=reset[lo:hi], state=state, return_state=True, **kw,
        )
        parts.append(part)
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # the state pickles and says what it is
    restored = pickle.loads(pickle.dumps(state))
    np.testing.assert_array_equal(restored.data, state.data)
    assert restored.shape == (6,) and restored.kind == state.kind


@given(st.data(), STATS, LAYOUTS, st.integers(1, 3))
def test_layouts_and_axes_match_the_reference(data, stat, layout, ndim):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shape = tuple(data.draw(st.sampled_from([1, 2, 5, 17])) for _ in range(ndim))
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.2] = np.nan
    y = rng.standard_normal(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    reset = rng.random(shape) < 0.1
    kw = dict(alpha=0.3, adjust=data.draw(st.booleans()), ignore_na=data.draw(st.booleans()))
    got = _call(stat, relayout(x, layout), relayout(y, layout), axis=axis, reset=reset, **kw)
    xm, ym, rm = (np.moveaxis(a, axis, -1).reshape(-1, shape[axis]) for a in (x, y, reset))
    want = np.stack([
        reference.ewm(xs, ys if stat in ("cov", "corr") else None, stat=stat, reset=rs, **kw)
        for xs, ys, rs in zip(xm, ym, rm, strict=True)
    ])
    want = np.moveaxis(want.reshape(np.moveaxis(x, axis, -1).shape), -1, axis)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)  # ulps near 0


@given(st.data(), STATS, LAYOUTS, st.integers(2, 4))
def test_state_carries_across_chunks_in_any_layout(data, stat, layout, ndim):
    """Chunks of N-d arrays in awkward layouts (up to axes that cannot merge, looped in
    Python): the state of every series is handed on to the same series."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shape = tuple(data.draw(st.sampled_from([1, 2, 3, 5])) for _ in range(ndim))
    axis = data.draw(st.integers(0, ndim - 1))
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.2] = np.nan
    y = rng.standard_normal(shape)
    reset = rng.random(shape) < 0.1  # (also: the signatures of the layout test above)
    kw = dict(alpha=0.3, adjust=data.draw(st.booleans()), min_periods=2)
    cut = data.draw(st.integers(0, shape[axis]))
    lo, hi = (tuple(slice(a, b) if d == axis else slice(None) for d in range(ndim))
              for a, b in ((0, cut), (cut, None)))
    xl, yl = relayout(x, layout), relayout(y, layout)
    first, state = _call(stat, xl[lo], yl[lo], axis=axis, reset=reset[lo],
                         return_state=True, **kw)
    assert state.shape == shape[:axis] + shape[axis + 1 :]
    second = _call(stat, xl[hi], yl[hi], axis=axis, reset=reset[hi], state=state, **kw)
    got = np.concatenate([first, second], axis=axis)
    xm, ym, rm = (np.moveaxis(a, axis, -1).reshape(-1, shape[axis]) for a in (x, y, reset))
    want = np.stack([
        reference.ewm(xs, ys if stat in ("cov", "corr") else None, stat=stat, reset=rs, **kw)
        for xs, ys, rs in zip(xm, ym, rm, strict=True)
    ])
    want = np.moveaxis(want.reshape(np.moveaxis(x, axis, -1).shape), -1, axis)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)


def test_reset_in_a_later_chunk_streams_exactly(rng):
    """The carried state is separate from the restart value (unlike ``initial=``)."""
    x = rng.standard_normal(50)
    reset = np.zeros(50, dtype=bool)
    reset[[30, 31, 45]] = True
    whole = scanwise.ewm_var(x, alpha=0.2, reset=reset)
    a, st = scanwise.ewm_var(x[:20], alpha=0.2, reset=reset[:20], return_state=True)
    b = scanwise.ewm_var(x[20:], alpha=0.2, reset=reset[20:], state=st)
    np.testing.assert_array_equal(np.r_[a, b], whole)


def test_thread_count_does_not_change_results(rng):
    numba = pytest.importorskip("numba")
    x = with_nans(rng, 300, 70)
    n = numba.get_num_threads()

    def both():
        return [
            scanwise.ewm_mean(x, axis=0, alpha=0.1),
            scanwise.ewm_corr(x, x[::-1], axis=0, com=3),
        ]

    try:
        numba.set_num_threads(1)
        one = both()
        numba.set_num_threads(n)
        many = both()
    finally:
        numba.set_num_threads(n)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("stat", ["mean", "var", "std", "cov", "corr"])
@pytest.mark.parametrize("adjust", [True, False])
def test_constant_flag_copy_of_the_kernel_gives_the_same_bits(rng, monkeypatch, stat, adjust):
    """pandas' defaults run a copy of the lane loop with the flags as constants and no
    observation count; ``return_state=True`` and ``min_periods > 1`` run a copy that
    counts (var/std/cov) or the general loop.  All are checked against pandas elsewhere;
    here they must agree exactly with the general loop (forced by patching the choice),
    with NaNs, resets and a later chunk started from the state."""
    from scanwise._kernels import ewm as kernels

    x = with_nans(rng, 400, 70)
    y = x[::-1] * 0.5 + rng.standard_normal(x.shape)
    reset = rng.random(x.shape) < 0.02
    kw = dict(axis=0, alpha=0.1, adjust=adjust, reset=reset)
    fast = _call(stat, x, y, **kw)
    counted, st = _call(stat, x, y, return_state=True, **kw)
    at_least_3 = _call(stat, x, y, min_periods=3, **kw)
    for name in ("mean_fast_path", "cov_fast_path", "corr_fast_path"):
        monkeypatch.setattr(kernels, name, lambda *flags: 0)
    general, st_general = _call(stat, x, y, return_state=True, **kw)
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_array_equal(counted, general)
    np.testing.assert_array_equal(st.data, st_general.data)
    np.testing.assert_array_equal(at_least_3, _call(stat, x, y, min_periods=3, **kw))
    monkeypatch.undo()
    head, st = _call(stat, x[:150], y[:150], return_state=True, **{**kw, "reset": reset[:150]})
    tail = _call(stat, x[150:], y[150:], state=st, **{**kw, "reset": reset[150:]})
    np.testing.assert_array_equal(np.r_[head, tail], fast)


@pytest.mark.parametrize("stat", ["mean", "var", "std", "cov", "corr"])
@pytest.mark.parametrize("adjust", [True, False])
@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize("offset", [0.0, 1234567.891])
def test_one_lane_tasks_give_the_lane_loop_bits(rng, stat, adjust, general, offset):
    """Tasks of one lane (1-D series, F-ordered columns, a C-ordered [T, 3]) keep their
    state in registers; the lane loop of a C-ordered [T, 9] must give the same bits,
    with NaNs, resets, the constant-flag copy and the general loop.  The one-lane loops
    divide by the total weight and the lane loops use ``div_rn``: a series far from 0
    (``offset``, small moves) shows any quotient that is not the division's, amplified
    by the cancellation in ``mean - new_mean``."""
    x = with_nans(rng, 300, 9)
    x = x * (1e-3 if offset else 1.0) + offset
    y = x[::-1] * 0.5 + rng.standard_normal(x.shape)
    reset = rng.random(x.shape) < 0.02
    kw = dict(alpha=0.1, adjust=adjust, min_periods=2 if general else 0)
    wide = _call(stat, x, y, axis=0, reset=reset, **kw)  # one task of 9 lanes
    for j in range(x.shape[1]):
        one = _call(stat, x[:, j], y[:, j], reset=reset[:, j], **kw)
        np.testing.assert_array_equal(one, wide[:, j])
    xf, yf, rf = (np.asfortranarray(a) for a in (x, y, reset))
    np.testing.assert_array_equal(_call(stat, xf, yf, axis=0, reset=rf, **kw), wide)
    x3, y3, r3 = (np.ascontiguousarray(a[:, 2:5]) for a in (x, y, reset))
    np.testing.assert_array_equal(_call(stat, x3, y3, axis=0, reset=r3, **kw), wide[:, 2:5])


def test_state_fields_and_empty_chunks(rng):
    x = rng.standard_normal((10, 3))
    res, st = scanwise.ewm_mean(x, axis=0, alpha=0.5, return_state=True)
    np.testing.assert_array_equal(st["mean"], res[-1])
    np.testing.assert_array_equal(st["nobs"], [10, 10, 10])
    empty, st2 = scanwise.ewm_mean(x[:0], axis=0, alpha=0.5, state=st, return_state=True)
    assert empty.shape == (0, 3)
    np.testing.assert_array_equal(st2.data, st.data)
