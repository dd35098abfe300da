"""Dask arrays chunked along time: parity with NumPy/pandas, laziness, graph size, chunk
borders, and a real LocalCluster with worker processes (including a killed worker)."""

from __future__ import annotations

import itertools
import os
import signal
import time

import numpy as np
import pytest
from ewm_data import with_nans
from hypothesis import given
from hypothesis import strategies as st

import scanwise

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

# the tests that start worker processes run on one xdist worker, one cluster at a time
# (with the demo's); the rest of the module spreads over both workers like any test
ON_A_CLUSTER = pytest.mark.xdist_group("dask")
RTOL = 1e-9


def _chunks(draw, n):
    """Uneven chunk sizes summing to n (some of length 1)."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=6))))
    bounds = [0, *[c for c in cuts if 0 < c < n], n]
    return tuple(b - a for a, b in itertools.pairwise(bounds)) or (n,)


LINEAR_OPS = {
    "cumsum": lambda x, **kw: scanwise.cumsum(x, **kw),
    "cumprod": lambda x, **kw: scanwise.cumprod(1 + 0.01 * x, **kw),
    "logcumsumexp": lambda x, **kw: scanwise.logcumsumexp(x, **kw),
    "discounted_cumsum": lambda x, **kw: scanwise.discounted_cumsum(x, 0.9, **kw),
    "linear_recurrence": lambda x, **kw: scanwise.linear_recurrence(
        np.linspace(0.5, 1.0, x.shape[-1]), x, **kw
    ),
}


@given(st.data(), st.sampled_from(sorted(LINEAR_OPS)), st.booleans(), st.booleans(),
       st.booleans())
def test_linear_ops_match_numpy_for_any_chunking(data, op, reverse, with_reset, with_initial):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n_t = data.draw(st.integers(1, 40))
    x = rng.standard_normal((n_t, 5))
    chunks = (_chunks(data.draw, n_t), (3, 2))
    reset = None
    if with_reset:
        reset = rng.random(x.shape) < 0.15
        borders = np.cumsum(chunks[0])[:-1]
        reset[borders, :2] = True  # resets exactly on chunk borders
    kw = dict(axis=0, reverse=reverse, reset=reset)
    if with_initial:
        kw["initial"] = rng.standard_normal(5)
    fn = LINEAR_OPS[op]
    lazy = fn(da.from_array(x, chunks=chunks), **kw)
    assert isinstance(lazy, da.Array) and lazy.chunks == chunks
    got = lazy.compute(scheduler="sync")
    np.testing.assert_allclose(got, fn(x, **kw), rtol=RTOL, atol=1e-12)


def test_cumsum_dtypes_include_initial_and_axis(rng):
    x = rng.integers(-5, 5, (9, 4, 6)).astype(np.int32)
    dx = da.from_array(x, chunks=(2, 3, (1, 5)))
    got = scanwise.cumsum(dx, axis=-1, include_initial=True)
    want = np.cumulative_sum(x, axis=-1, include_initial=True)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.compute(), want)
    got = scanwise.cumsum(dx.astype(np.float32), axis=0, reverse=True)
    assert got.dtype == np.float32
    # mixed: NumPy x with a dask reset
    reset = da.from_array(rng.random(x.shape) < 0.3, chunks=(4, 4, 6))
    np.testing.assert_array_equal(
        scanwise.cumsum(x, axis=1, reset=reset).compute(),
        scanwise.cumsum(x, axis=1, reset=reset.compute()),
    )


@given(st.data(), st.sampled_from(["mean", "var", "std", "cov", "corr"]), st.booleans())
def test_ewm_on_dask_is_bit_identical_to_numpy(data, stat, adjust):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n_t = data.draw(st.integers(1, 50))
    x = with_nans(rng, n_t, 6)
    y = x + rng.standard_normal(x.shape)
    chunks = (_chunks(data.draw, n_t), (4, 2))
    reset = rng.random(x.shape) < 0.05
    kw = dict(axis=0, alpha=0.3, adjust=adjust, min_periods=2, reset=reset)
    fn = getattr(scanwise, f"ewm_{stat}")
    two = stat in ("cov", "corr")
    lazy = fn(*(da.from_array(x, chunks=chunks), y) if two else (da.from_array(x, chunks=chunks),),
              **kw)
    want = fn(*(x, y) if two else (x,), **kw)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), want)


def test_ewm_times_and_state_on_dask(rng):
    n_t = 60
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(1, 50, n_t).cumsum(), "min")
    x = with_nans(rng, n_t, 3)
    dx = da.from_array(x, chunks=((7, 13, 1, 39), 3))
    got = scanwise.ewm_mean(dx, axis=0, halflife="20min", times=times).compute()
    want = pd.DataFrame(x).ewm(halflife="20min", times=times).mean().to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10)
    _, state = scanwise.ewm_var(x[:10], axis=0, alpha=0.1, return_state=True)
    got = scanwise.ewm_var(dx[10:], axis=0, alpha=0.1, state=state).compute()
    np.testing.assert_array_equal(got, scanwise.ewm_var(x, axis=0, alpha=0.1)[10:])
    with pytest.raises(ValueError, match="return_state=True is not supported for dask"):
        scanwise.ewm_mean(dx, axis=0, alpha=0.1, return_state=True)
    with pytest.raises(ValueError, match="alpha must satisfy"):
        scanwise.ewm_mean(dx, axis=0, alpha=2.0)  # checked at call time, not at compute


def test_rl_returns_on_dask(rng):
    n_t, n = 40, 6
    r, v, nv = (rng.standard_normal((n_t, n)) for _ in range(3))
    term = rng.random((n_t, n)) < 0.1
    done = term | (rng.random((n_t, n)) < 0.1)
    dr = da.from_array(r, chunks=((5, 10, 25), 3))
    for got, want in [
        (scanwise.gae(dr, v, nv, terminated=term, done=done, discount=0.99, lam=0.9),
         scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.99, lam=0.9)),
        ((scanwise.discounted_returns(dr, discount=0.9, done=done, bootstrap=nv[-1]),),
         (scanwise.discounted_returns(r, discount=0.9, done=done, bootstrap=nv[-1]),)),
    ]:
        for g, w in zip(got, want, strict=True):
            assert isinstance(g, da.Array)
            np.testing.assert_allclose(g.compute(), w, rtol=RTOL, atol=1e-12)


def test_nothing_is_computed_at_call_time():
    calls = []

    def load(block_id=None):
        calls.append(block_id)
        return np.ones((10, 4))

    x = da.map_blocks(load, chunks=((10,) * 5, (4,)), dtype=float, meta=np.empty((0, 0)))
    calls.clear()  # only what scanwise does counts
    results = [
        scanwise.cumsum(x, axis=0),
        scanwise.logcumsumexp(x, axis=0, reverse=True),
        scanwise.ewm_var(x, axis=0, span=5),
        scanwise.gae(x, x, x, terminated=np.zeros((50, 4), bool), discount=0.9, lam=0.9)[0],
    ]
    assert calls == []
    assert all(isinstance(r, da.Array) for r in results)
    assert results[0].compute()[-1, 0] == 50.0


@pytest.mark.parametrize("op", ["cumsum", "ewm_mean", "discounted_cumsum"])
def test_graph_is_linear_in_the_number_of_chunks(op):
    fn = {
        "cumsum": lambda x: scanwise.cumsum(x, axis=0, reverse=True),
        "ewm_mean": lambda x: scanwise.ewm_mean(x, axis=0, alpha=0.1),
        "discounted_cumsum": lambda x: scanwise.discounted_cumsum(x, 0.9, axis=0),
    }[op]
    sizes = {}
    for n_chunks in (10, 20, 40):
        x = da.ones((n_chunks * 5, 8), chunks=(5, 4))
        out = fn(x)
        assert out.chunks == x.chunks  # the time axis is never rechunked into one chunk
        sizes[n_chunks] = len(dict(out.__dask_graph__()))
    blocks = 2  # blocks along the other axis
    for n_chunks, size in sizes.items():
        assert size <= 6 * n_chunks * blocks + 10
    # doubling the chunks adds the same number of tasks again: O(chunks)
    assert sizes[40] - sizes[20] == 2 * (sizes[20] - sizes[10])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        memory_limit="2GiB",
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@ON_A_CLUSTER
def test_local_cluster_parity_for_every_op(client, rng):
    n_t = 120
    chunks = ((17, 1, 30, 2, 40, 30), (3, 2))
    x = with_nans(rng, n_t, 5, frac=0.0)
    y = x[::-1] + rng.standard_normal(x.shape)
    reset = rng.random(x.shape) < 0.05
    reset[[17, 18, 48], :] = True  # on chunk borders
    dx, dy = da.from_array(x, chunks=chunks), da.from_array(y, chunks=chunks)
    lazy, want = [], []
    for fn in LINEAR_OPS.values():
        for reverse in (False, True):
            lazy.append(fn(dx, axis=0, reset=reset, reverse=reverse, initial=x[0]))
            want.append(fn(x, axis=0, reset=reset, reverse=reverse, initial=x[0]))
    xn = with_nans(rng, n_t, 5)
    dxn = da.from_array(xn, chunks=chunks)
    frame = pd.DataFrame(xn)
    for adjust in (True, False):
        kw = dict(alpha=0.2, adjust=adjust, min_periods=3)
        ewm = frame.ewm(**kw)
        lazy += [scanwise.ewm_mean(dxn, axis=0, **kw), scanwise.ewm_var(dxn, axis=0, **kw),
                 scanwise.ewm_std(dxn, axis=0, **kw)]
        want += [ewm.mean().to_numpy(), ewm.var().to_numpy(), ewm.std().to_numpy()]
        lazy += [scanwise.ewm_cov(dxn, dy, axis=0, **kw), scanwise.ewm_corr(dxn, dy, axis=0, **kw)]
        cols = [(pd.Series(xn[:, c]).ewm(**kw), pd.Series(y[:, c])) for c in range(5)]
        want += [
            np.column_stack([e.cov(other) for e, other in cols]),
            np.column_stack([e.corr(other) for e, other in cols]),
        ]
    adv, ret = scanwise.gae(dx, y, x, terminated=reset, discount=0.99, lam=0.95)
    lazy += [adv, ret]
    want += list(scanwise.gae(x, y, x, terminated=reset, discount=0.99, lam=0.95))
    kw = dict(discount=0.97, done=reset, bootstrap=x[-1])
    lazy.append(scanwise.discounted_returns(dx, **kw))
    want.append(scanwise.discounted_returns(x, **kw))
    kw = dict(terminated=reset, discount=0.9, lam=0.8)
    lazy.append(scanwise.lambda_returns(dx, dy, y, **kw))
    want.append(scanwise.lambda_returns(x, y, y, **kw))
    # in this process first: compiles (or loads) every kernel once and writes numba's
    # cache, so the two worker processes load it instead of both compiling the same
    # signatures at once (~45 s of CI); and the scheduler must not change a bit
    here = dask.compute(*lazy, scheduler="sync")
    got = client.compute(lazy, sync=True)
    for g, h, w in zip(got, here, want, strict=True):
        np.testing.assert_array_equal(g, h)
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=1e-12, equal_nan=True)


def _slow(block):
    time.sleep(0.25)
    return block


@ON_A_CLUSTER
def test_a_killed_worker_does_not_lose_the_result(client, rng):
    x = rng.standard_normal((400, 8))
    dx = da.from_array(x, chunks=(20, 8)).map_blocks(_slow, dtype=float)
    future = client.compute(scanwise.cumsum(dx, axis=0))
    pids = client.run(os.getpid)
    time.sleep(1.0)  # the computation is under way (about 2.5 s of sleeping per worker)
    assert not future.done()
    victim = next(iter(pids.values()))
    os.kill(victim, signal.SIGKILL)
    got = future.result(timeout=120)
    np.testing.assert_allclose(got, np.cumsum(x, axis=0), rtol=RTOL)
    # the nanny restarted the killed worker process: the cluster is whole again
    deadline = time.time() + 60
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    new_pids = client.run(os.getpid)
    assert len(new_pids) == 2 and victim not in new_pids.values()
