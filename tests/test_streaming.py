"""Kernels writing with non-temporal stores (``scanwise._kernels.stream``) give the same
results as NumPy, the reference loops and the RL libraries' algorithms.

Streaming is normally reserved for outputs larger than the cache; the ``streamed``
fixture lowers the threshold to 0 so that small arrays take those paths, including row
slices that start and end off the vector alignment (head and tail stores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rl_refs
from hypothesis import given
from hypothesis import strategies as st

import scanwise
from scanwise import _layout, reference


@pytest.fixture(scope="module", autouse=True)
def streamed():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_layout, "STREAM_MIN_BYTES", 0)
        yield


def _offset_view(rng, t, n, lo, dtype):
    """A [t, n] view whose rows start ``lo`` elements into a wider contiguous buffer."""
    base = rng.standard_normal((t, n + lo + 3)).astype(dtype)
    return base[:, lo : lo + n]


@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 30),
    st.sampled_from([2, 7, 40, 129, 300]),  # rows of several prefetch chunks too
    st.integers(0, 15),  # every float32 offset in a 64-byte line (streamed vector size)
    st.sampled_from([np.float64, np.float32, np.complex128]),
    st.booleans(),
)
def test_linear_scan_streamed(seed, t, n, lo, dtype, reverse):
    rng = np.random.default_rng(seed)
    x = _offset_view(rng, t, n, lo, dtype)
    out = np.full((t, n + lo + 3), -7.0, dtype)[:, lo : lo + n]
    scanwise.cumsum(x, axis=0, reverse=reverse, out=out)
    want = np.flip(np.cumsum(np.flip(x, 0), 0), 0) if reverse else np.cumsum(x, 0)
    np.testing.assert_array_equal(out, want)  # one step at a time, like NumPy
    assert (out.base[:, :lo] == -7).all() and (out.base[:, lo + n :] == -7).all()
    reset = rng.random((t, n)) < 0.2
    got = scanwise.discounted_cumsum(x, 0.9, axis=0, reverse=reverse, reset=reset)
    want = reference.linear_recurrence(
        np.full(x.shape, 0.9, dtype), x, axis=0, reverse=reverse, reset=reset
    )
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


@given(st.integers(0, 2**32 - 1), st.integers(9, 60))
def test_chunked_scan_streamed(seed, t):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_layout, "CHUNKED_MIN_T", 8)
        mp.setattr(_layout, "CHUNK", 5)
        _chunked(seed, t)


def _chunked(seed, t):
    x = np.random.default_rng(seed).standard_normal(t)
    np.testing.assert_allclose(scanwise.cumsum(x), np.cumsum(x), rtol=1e-12, atol=1e-12)
    # two lanes run chunk-parallel too, lane after lane: never streamed, still right
    x2 = np.random.default_rng(seed).standard_normal((t, 2))
    np.testing.assert_allclose(
        scanwise.cumsum(x2, axis=0), np.cumsum(x2, 0), rtol=1e-12, atol=1e-12
    )


@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.integers(2, 90), st.integers(0, 5))
def test_ewm_mean_streamed(seed, t, n, lo):
    rng = np.random.default_rng(seed)
    x = _offset_view(rng, t, n, lo, np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    got = scanwise.ewm_mean(x, axis=0, alpha=0.3, min_periods=2)
    want = pd.DataFrame(x).ewm(alpha=0.3, min_periods=2).mean().to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 40),
    st.integers(2, 90),
    st.integers(0, 5),
    st.booleans(),
    st.sampled_from(["var", "std"]),
)
def test_ewm_var_streamed(seed, t, n, lo, bias, stat):
    rng = np.random.default_rng(seed)
    x = _offset_view(rng, t, n, lo, np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    out = np.full((t, n + lo + 3), -7.0)[:, lo : lo + n]
    getattr(scanwise, f"ewm_{stat}")(x, axis=0, alpha=0.3, bias=bias, out=out)
    want = getattr(pd.DataFrame(x).ewm(alpha=0.3), stat)(bias=bias).to_numpy()
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)
    assert (out.base[:, :lo] == -7).all() and (out.base[:, lo + n :] == -7).all()


@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 30),
    st.sampled_from([2, 5, 37, 300]),
    st.sampled_from([np.float64, np.float32]),
    st.booleans(),
)
def test_gae_streamed(seed, t, n, dtype, per_env):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((t, n)).astype(dtype) for _ in range(3))
    term = rng.random((t, n)) < 0.1
    done = term | (rng.random((t, n)) < 0.05)
    gamma = rng.uniform(0.5, 1.0, n) if per_env else 0.99
    want_a, want_r = rl_refs.torchrl_gae(
        np.asarray(gamma, dtype), np.asarray(0.9, dtype), v, nv, r, done, term
    )
    a, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=gamma, lam=0.9)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, want_a, **tol)
    np.testing.assert_allclose(ret, want_r, **tol)


def test_gae_streamed_into_mixed_layout_out(rng):
    """``out=`` arrays of different layouts: only unit-stride rows are ever streamed."""
    t, n = 12, 37
    r, v, nv = (rng.standard_normal((t, n)) for _ in range(3))
    term = rng.random((t, n)) < 0.1
    want_a, want_r = rl_refs.torchrl_gae(0.99, 0.9, v, nv, r, term, term)
    adv = np.zeros((t, n))
    ret_base = np.zeros((n, 2 * t)).T  # Fortran-ordered, and every other row
    ret = ret_base[::2]
    scanwise.gae(r, v, nv, terminated=term, discount=0.99, lam=0.9, out=(adv, ret))
    np.testing.assert_allclose(adv, want_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, want_r, rtol=1e-12, atol=1e-12)
    assert (ret_base[1::2] == 0).all()


def test_streamed_outputs_with_descending_rows(rng):
    """An ``out=`` whose rows run backwards in memory is written element by element."""
    x = rng.standard_normal((30, 21))
    buf = np.zeros((30, 23))
    out = buf[:, 21:0:-1]
    scanwise.ewm_mean(x, axis=0, alpha=0.2, out=out)
    np.testing.assert_allclose(out, pd.DataFrame(x).ewm(alpha=0.2).mean().to_numpy(),
                               rtol=1e-12, atol=1e-14)
    assert (buf[:, 0] == 0).all() and (buf[:, 22] == 0).all()
    adv = np.zeros((30, 23))[:, 21:0:-1]
    ret = np.zeros((30, 21))
    term = rng.random(x.shape) < 0.1
    scanwise.gae(x, x, x, terminated=term, discount=0.9, lam=0.8, out=(adv, ret))
    want_a, _ = rl_refs.torchrl_gae(0.9, 0.8, x, x, x, term, term)
    np.testing.assert_allclose(adv, want_a, rtol=1e-12, atol=1e-12)
    got = scanwise.cumsum(x, axis=0, out=np.zeros((30, 23))[:, 21:0:-1])
    np.testing.assert_array_equal(got, np.cumsum(x, 0))


@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.sampled_from([129, 300, 517]),
    st.sampled_from(["mean", "var", "cov", "corr"]),
    st.booleans(),
)
def test_ewm_rows_wider_than_a_prefetch_chunk(seed, t, n, stat, general):
    """Time-major EWM kernels scan each row in chunks of ``PREFETCH_LANES`` lanes (the
    prefetch of the row ahead interleaved with the work): rows of several chunks and a
    partial last one, streamed, against pandas; ``general``: the loop that counts.
    (Contiguous arrays: the kernels' signatures are the pandas grid's, nothing new to
    compile; offset rows are tested above.)"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t, n))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = x * 0.5 + rng.standard_normal(x.shape)
    out = np.empty_like(x)
    minp = 2 if general else 0
    args = (x, y) if stat in ("cov", "corr") else (x,)
    getattr(scanwise, f"ewm_{stat}")(*args, axis=0, alpha=0.3, min_periods=minp, out=out)
    roll = pd.DataFrame(x).ewm(alpha=0.3, min_periods=minp)
    want = (getattr(roll, stat)(pd.DataFrame(y)) if stat in ("cov", "corr")
            else getattr(roll, stat)()).to_numpy()
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)
