"""Issue 22: per-step rates, ``valid=``, V-trace, n-step and off-policy returns.

Oracles, never the code under test: rlax's published test vectors, IMPALA's explicit
sums (scalable_agent), TorchRL's loops (installed), loops written from the papers'
formulas (:mod:`rl_refs`) and the definition of a skipped step (the valid steps
computed on their own, :func:`rl_refs.skipping`).  Kernel signatures are kept few:
float64 C arrays with per-step rates almost everywhere, one float32 (and float16,
computed in float32) case, one strided case.
"""

from __future__ import annotations

import numpy as np
import pytest
import rl_refs
from hypothesis import given, settings
from hypothesis import strategies as st

import scanwise

TOL = dict(rtol=1e-10, atol=1e-10)


def _data(seed, t, n, p_done=0.2, p_valid=None):
    rng = np.random.default_rng(seed)
    d = {k: rng.standard_normal((t, n)) for k in ("r", "v", "nv", "nq")}
    d["lr"] = rng.standard_normal((t, n)) * 0.7
    d["c"] = rng.random((t, n))
    d["term"] = rng.random((t, n)) < p_done / 2
    d["done"] = d["term"] | (rng.random((t, n)) < p_done / 2)  # truncations too
    d["g"] = rng.random((t, n))
    d["lam"] = rng.random((t, n))
    d["valid"] = None if p_valid is None else rng.random((t, n)) < p_valid
    return d


def _ours(d, which, **kw):
    g = kw.pop("g", d["g"])
    common = dict(terminated=d["term"], done=d["done"], discount=g, valid=d["valid"], **kw)
    if which in ("gae", "vtrace"):
        common.setdefault("lam", d["lam"])
    if which == "gae":
        return scanwise.gae(d["r"], d["v"], d["nv"], **common)
    if which == "vtrace":
        return scanwise.vtrace(d["r"], d["v"], d["nv"], log_rhos=d["lr"], **common)
    if which == "nstep":
        return scanwise.n_step_returns(d["r"], d["nv"], **common)
    if which == "offpolicy":
        return scanwise.off_policy_returns(d["r"], d["nv"], d["nq"], traces=d["c"], **common)
    raise AssertionError(which)


def _oracle(d, which, n=None, clips=(1.0, 1.0, 1.0), g=None, lam=None):
    g = d["g"] if g is None else np.broadcast_to(g, d["r"].shape)
    lam = d["lam"] if lam is None else np.broadcast_to(lam, d["r"].shape)
    if which == "gae":
        fn, arrays, zero = (rl_refs.steps_gae, (d["r"], d["v"], d["nv"], d["term"], d["done"],
                                                g, lam), ())
    elif which == "vtrace":
        def fn(lr, r, v, nv, term, done, g, lam):
            return rl_refs.vtrace(lr, r, v, nv, term, done, g, lam, *clips)
        arrays, zero = (d["lr"], d["r"], d["v"], d["nv"], d["term"], d["done"], g, lam), (1,)
    elif which == "nstep":
        def fn(r, nv, term, done, g):
            return rl_refs.n_step(r, nv, n, term, done, g)
        arrays, zero = (d["r"], d["nv"], d["term"], d["done"], g), ()
    else:
        fn, arrays, zero = (rl_refs.off_policy, (d["r"], d["nv"], d["nq"], d["c"], d["term"],
                                                 d["done"], g), ())
    if d["valid"] is None:
        return fn(*arrays)
    return rl_refs.skipping(fn, d["valid"], arrays, zero=zero)


def _close(got, want, **tol):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, **(tol or TOL))


# --- published vectors --------------------------------------------------------------

# rlax/_src/multistep_test.py: [B, T] (time on axis 1), discount_t per step
R_T = np.array([[1.0, 0.0, -1.0, 0.0, 1.0], [0.5, 0.8, -0.7, 0.0, 2.1]])
DISCOUNT_T = np.array([[0.5, 0.9, 1.0, 0.5, 0.8], [0.9, 0.5, 0.3, 0.8, 0.7]])
V_T = np.array([[3.0, 1.0, 5.0, -5.0, 3.0], [-1.7, 1.2, 2.3, 2.2, 2.7]])
NO = np.zeros((2, 5), bool)


def test_rlax_lambda_and_discounted_returns():
    # rlax: G = r + d ((1 - lam) v_t + lam G[t+1]); per transition values[t] = v_t[t-1]
    values = np.concatenate([np.zeros((2, 1)), V_T[:, :-1]], axis=1)
    got = scanwise.lambda_returns(R_T, values, V_T, terminated=NO, discount=DISCOUNT_T,
                                  lam=0.75, axis=1)
    want = [[1.6460547, 0.72281253, 0.7375001, 0.6500001, 3.4],
            [0.7866317, 0.9913063, 0.1101501, 2.834, 3.99]]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    got = scanwise.discounted_returns(R_T, discount=DISCOUNT_T, bootstrap=V_T[:, -1], axis=1)
    want = [[1.315, 0.63000005, 0.70000005, 1.7, 3.4],
            [1.33592, 0.9288, 0.2576, 3.192, 3.9899998]]
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize(
    "n, want",
    [
        (3, [[2.8, -3.15, 0.7, 1.7, 3.4], [1.2155, 0.714, 0.2576, 3.192, 3.99]]),
        (5, [[1.315, 0.63, 0.7, 1.7, 3.4], [1.33592, 0.9288, 0.2576, 3.192, 3.99]]),
        (7, [[1.315, 0.63, 0.7, 1.7, 3.4], [1.33592, 0.9288, 0.2576, 3.192, 3.99]]),
    ],
)
def test_rlax_n_step_returns(n, want):
    got = scanwise.n_step_returns(R_T, V_T, n=n, terminated=NO, discount=DISCOUNT_T, axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize(
    "lam, want",
    [
        (1.0, [[-1.45118, -4.4557, 2.5396, 0.5249, -0.49], [3.0, 2.0, 1.0, 0.0, -4.9]]),
        (0.7, [[-0.676979, -5.248167, 2.4846, 0.6704, -0.49], [2.2899, 1.73, 1.0, 0.0, -4.9]]),
        (0.4, [[0.56731, -6.042, 2.3431, 0.815, -0.49], [1.725, 1.46, 1.0, 0.0, -4.9]]),
    ],
)
def test_rlax_truncated_gae(lam, want):
    r = np.array([[0.0, 0.0, 1.0, 0.0, -0.5], [0.0, 0.0, 0.0, 0.0, 1.0]])
    v = np.array([[1.0, 4.0, -3.0, -2.0, -1.0, -1.0], [-3.0, -2.0, -1.0, 0.0, 5.0, -1.0]])
    d = np.array([[0.99] * 5, [0.9, 0.9, 0.9, 0.0, 0.9]])
    # rlax's discount_t as a per-step discount, and as terminated with a constant gamma
    a, _ = scanwise.gae(r, v[:, :-1], v[:, 1:], terminated=NO, discount=d, lam=lam, axis=1)
    np.testing.assert_allclose(a, want, atol=1e-3)
    a2, _ = scanwise.gae(r, v[:, :-1], v[:, 1:], terminated=d == 0,
                         discount=np.where(d == 0, 0.9, d)[:, :1], lam=lam, axis=1)
    np.testing.assert_allclose(a2, a, **TOL)


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_rlax_vtrace_vectors():
    # rlax/_src/vtrace_test.py (defaults: lambda 1, clip_rho 1, clip_pg_rho 1)
    mu_logits = np.array([[[8.9, 0.7], [5.0, 1.0], [0.6, 0.1], [-0.9, -0.1]],
                          [[0.3, -5.0], [1.0, -8.0], [0.3, 1.7], [4.7, 3.3]]])
    pi_logits = np.array([[[0.4, 0.5], [9.2, 8.8], [0.7, 4.4], [7.9, 1.4]],
                          [[1.0, 0.9], [1.0, -1.0], [-4.3, 8.7], [0.8, 0.3]]])
    actions = np.array([[0, 1, 0, 0], [1, 0, 0, 1]])
    pick = np.take_along_axis
    log_rhos = (pick(_log_softmax(pi_logits), actions[..., None], -1)
                - pick(_log_softmax(mu_logits), actions[..., None], -1))[..., 0]
    rewards = np.array([[-1.3, -1.3, 2.3, 42.0], [1.3, 5.3, -3.3, -5.0]])
    discounts = np.array([[0.0, 0.89, 0.85, 0.99], [0.88, 1.0, 0.83, 0.95]])
    values = np.array([[2.1, 1.1, -3.1, 0.0], [3.1, 0.1, -1.1, 7.4]])
    nv = np.concatenate([values[:, 1:], np.array([[8.4], [-1.2]])], axis=1)
    vs, pg = scanwise.vtrace(rewards, values, nv, log_rhos=log_rhos,
                             terminated=np.zeros((2, 4), bool), discount=discounts, axis=1)
    td = [[-1.6155143, -3.4973226, 1.8670533, 5.0316002e1],
          [1.4662437, 3.6116405, -8.3327293e-5, -1.3540000e1]]
    want_pg = [[-1.6155143, -3.4973226, 1.8670534, 5.0316002e1],
               [1.4662433, 3.6116405, -8.3369283e-05, -1.3540000e1]]
    np.testing.assert_allclose(vs - values, td, rtol=1e-3)
    np.testing.assert_allclose(pg, want_pg, rtol=1e-3)


@pytest.mark.parametrize("batch", [1, 5])
def test_impala_ground_truth(batch):
    # scalable_agent/vtrace_test.py's inputs, then random ratios below and above 1 too
    t = 5
    shaped = np.arange(t * batch, dtype=np.float64).reshape(t, batch)
    log_rhos = np.log(shaped / batch / t + 1)
    discounts = np.array([[0.9 / (b + 1) for b in range(batch)] for _ in range(t)])
    values = shaped / batch
    boot = np.arange(batch) + 1.0
    nv = np.concatenate([values[1:], boot[None]])
    no = np.zeros((t, batch), bool)
    rng = np.random.default_rng(batch)
    for lr in (log_rhos, rng.standard_normal((t, batch))):
        for clips in ((3.7, 2.2), (None, None)):
            want = rl_refs.impala_ground_truth(discounts, lr, shaped, values, boot, *clips)
            got = scanwise.vtrace(shaped, values, nv, log_rhos=lr, terminated=no,
                                  discount=discounts, clip_rho=clips[0], clip_pg_rho=clips[1])
            _close(got, want)


# --- TorchRL's loops, done != terminated ----------------------------------------------


def _tt(torch, x):
    return torch.from_numpy(np.ascontiguousarray(x.T[..., None]))


def test_torchrl_vtrace_advantage_estimate():
    torch = pytest.importorskip("torch")
    fn = pytest.importorskip("torchrl.objectives.value.functional")
    d = _data(7, 60, 4, p_done=0.3)
    assert (d["done"] != d["term"]).any()
    log_mu = np.random.default_rng(1).standard_normal(d["r"].shape)
    log_pi = log_mu + d["lr"]
    for rho_t, c_t in ((1.0, 1.0), (2.0, 0.7)):
        adv, vs = fn.vtrace_advantage_estimate(
            0.97, _tt(torch, log_pi), _tt(torch, log_mu), _tt(torch, d["v"]),
            _tt(torch, d["nv"]), _tt(torch, d["r"]), _tt(torch, d["done"]),
            _tt(torch, d["term"]), rho_thresh=rho_t, c_thresh=c_t)
        got_vs, got_pg = scanwise.vtrace(
            d["r"], d["v"], d["nv"], log_rhos=log_pi - log_mu, terminated=d["term"],
            done=d["done"], discount=0.97, clip_rho=rho_t, clip_c=c_t, clip_pg_rho=rho_t)
        np.testing.assert_allclose(got_vs, vs[..., 0].numpy().T, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got_pg, adv[..., 0].numpy().T, rtol=1e-6, atol=1e-6)


def test_torchrl_td_lambda_per_step_rates():
    torch = pytest.importorskip("torch")
    fn = pytest.importorskip("torchrl.objectives.value.functional")
    d = _data(8, 50, 3, p_done=0.3)
    # consistent data: values[t + 1] is next_values[t] inside an episode (TorchRL's
    # recursion reads next_values where scanwise reads values[t + 1])
    v = d["v"].copy()
    v[1:] = np.where(d["done"][:-1], v[1:], d["nv"][:-1])
    want = fn.td_lambda_return_estimate(
        _tt(torch, d["g"]), _tt(torch, d["lam"]), _tt(torch, d["nv"]), _tt(torch, d["r"]),
        _tt(torch, d["done"]), _tt(torch, d["term"]))
    got = scanwise.lambda_returns(d["r"], v, d["nv"], terminated=d["term"], done=d["done"],
                                  discount=d["g"], lam=d["lam"])
    np.testing.assert_allclose(got, want[..., 0].numpy().T, **TOL)


# --- the papers' formulas, any rates, skipped steps -------------------------------------

WHICH = ["gae", "vtrace", "nstep", "offpolicy"]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 23),
    st.integers(1, 3),
    st.sampled_from([0.0, 0.2, 1.0]),
    st.sampled_from([None, 0.7, 0.2]),
    st.integers(1, 6),
)
def test_estimators_match_loops(seed, t, n, p_done, p_valid, steps):
    d = _data(seed, t, n, p_done, p_valid)
    for which in WHICH:
        kw = {"n": steps} if which == "nstep" else {}
        _close(_ours(d, which, **kw), _oracle(d, which, n=steps))
    g = d["g"]
    boot = d["nv"][-1]
    dn = d["done"]
    if d["valid"] is None:
        want = rl_refs.discounted(d["r"], g, dn, boot)
    else:
        # one series at a time: the bootstrap is per series
        want = np.column_stack([
            rl_refs.skipping(lambda r, g, dn, b=boot[i]: rl_refs.discounted(r, g, dn, b),
                             d["valid"][:, i : i + 1],
                             (d["r"][:, i : i + 1], g[:, i : i + 1], dn[:, i : i + 1]),
                             after=boot[i : i + 1])
            for i in range(n)])
    got = scanwise.discounted_returns(d["r"], discount=g, done=dn, bootstrap=boot,
                                      valid=d["valid"])
    _close(got, want)


@pytest.mark.parametrize("n_envs", [40, 140])
def test_wide_rollouts_with_skipped_steps_and_per_step_rates(n_envs):
    """The vectorised time-major lane loops (more than 16 envs; 140: two prefetch
    chunks a row) with ``valid=``, ``done`` and per-step discount and lambda."""
    d = _data(31 + n_envs, 29, n_envs, p_done=0.3, p_valid=0.7)
    for which in WHICH:
        kw = {"n": 4} if which == "nstep" else {}
        _close(_ours(d, which, **kw), _oracle(d, which, n=4))


def test_per_env_and_per_step_rates_agree(rng):
    d = _data(3, 30, 4)
    per_env = np.array([0.9, 0.0, 1.0, 0.5])
    for which in ("gae", "vtrace", "nstep", "offpolicy"):
        kw = {"n": 4} if which == "nstep" else {}
        a = _ours(d, which, g=per_env, **kw)
        b = _ours(d, which, g=np.broadcast_to(per_env, d["r"].shape).copy(), **kw)
        c = _ours(d, which, g=per_env[None, :], **kw)
        _close(a, b, rtol=0, atol=0)
        _close(c, b, rtol=0, atol=0)


@pytest.mark.parametrize("g", [0.0, 1.0])
@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_constant_extremes(g, lam):
    d = _data(11, 17, 3, p_done=0.3)
    full = np.full(d["r"].shape, g)
    for which in WHICH:
        kw = {"n": 3} if which == "nstep" else {}
        if which in ("gae", "vtrace"):
            kw["lam"] = np.full(d["r"].shape, lam)
        _close(_ours(d, which, g=full, **kw), _oracle(d, which, n=3, g=g, lam=lam))


def test_n_step_special_cases():
    d = _data(12, 40, 3, p_done=0.2)
    g, nv, r = d["g"], d["nv"], d["r"]
    one = scanwise.n_step_returns(r, nv, n=1, terminated=d["term"], done=d["done"], discount=g)
    np.testing.assert_allclose(one, r + g * np.where(d["term"], 0, nv), **TOL)
    # n >= T is the discounted return bootstrapped at every done step and at the end
    long = scanwise.n_step_returns(r, nv, n=10**9, terminated=d["term"], done=d["done"],
                                   discount=g)
    boot = np.where(d["term"], 0.0, nv)
    want = np.empty_like(r)
    acc = boot[-1] * 0
    for t in reversed(range(40)):
        cut = d["done"][t] | (t == 39)
        acc = r[t] + g[t] * np.where(cut, boot[t], acc)
        want[t] = acc
    np.testing.assert_allclose(long, want, **TOL)
    # a discount of 0 inside the window: exact, no division
    g0 = g.copy()
    g0[::3] = 0.0
    got = scanwise.n_step_returns(r, nv, n=5, terminated=d["term"], done=d["done"], discount=g0)
    np.testing.assert_allclose(got, rl_refs.n_step(r, nv, 5, d["term"], d["done"], g0), **TOL)


def test_clips_none_and_lam_mixing():
    d = _data(13, 25, 3)
    for clips in ((None, None, None), (0.5, 2.0, None), (0.0, 0.0, 0.0)):
        got = _ours(d, "vtrace", clip_rho=clips[0], clip_c=clips[1], clip_pg_rho=clips[2])
        _close(got, _oracle(d, "vtrace", clips=clips))


# --- split equals concat -----------------------------------------------------------


def test_episodes_one_by_one_equal_the_batch():
    rng = np.random.default_rng(5)
    lengths = [1, 4, 7, 2, 9]
    t = sum(lengths)
    d = _data(5, t, 1)
    ends = np.cumsum(lengths) - 1
    d["done"] = np.zeros((t, 1), bool)
    d["done"][ends[:-1]] = True  # the last episode is cut by the end of the array
    d["term"] = d["done"] & (rng.random((t, 1)) < 0.5)
    batch = {w: _ours(d, w, **({"n": 3} if w == "nstep" else {})) for w in WHICH}
    batch["disc"] = scanwise.discounted_returns(d["r"], discount=d["g"], done=d["done"],
                                                bootstrap=d["nv"][-1])
    start = 0
    for stop in ends + 1:
        piece = {k: (x if x is None else x[start:stop]) for k, x in d.items()}
        piece["done"] = piece["done"].copy()
        for w in WHICH:
            one = _ours(piece, w, **({"n": 3} if w == "nstep" else {}))
            want = tuple(x[start:stop] for x in batch[w]) if w in ("gae", "vtrace") else (
                batch[w][start:stop])
            # exact, but for n-step's two-stack windows: their blocks start at the array's
            # start, so a piece composes the same maps in another association (1 ulp)
            _close(one, want, **({} if w == "nstep" else dict(rtol=0, atol=0)))
        last = stop == t
        one = scanwise.discounted_returns(piece["r"], discount=piece["g"], done=piece["done"],
                                          bootstrap=d["nv"][-1] if last else None)
        np.testing.assert_array_equal(one, batch["disc"][start:stop])
        start = stop


# --- edge cases --------------------------------------------------------------------


@pytest.mark.parametrize("case", ["T1", "all_done", "done_last"])
def test_edges(case):
    d = _data(21, 1 if case == "T1" else 12, 3)
    if case == "all_done":
        d["done"][:] = True
    if case == "done_last":
        d["done"][-1] = True
    for which in WHICH:
        _close(_ours(d, which, **({"n": 4} if which == "nstep" else {})),
               _oracle(d, which, n=4))


def test_nan_in_skipped_steps_reaches_no_output():
    d = _data(22, 30, 4, p_done=0.2, p_valid=0.6)
    clean = {w: _ours(d, w, **({"n": 3} if w == "nstep" else {})) for w in WHICH}
    bad = dict(d)
    skip = ~d["valid"]
    for k in ("r", "v", "nv", "nq", "lr", "c"):
        bad[k] = np.where(skip, np.nan, d[k])
    bad["done"] = d["done"] ^ skip  # flags of skipped steps are not read either
    bad["term"] = d["term"] ^ skip
    for w in WHICH:
        got = _ours(bad, w, **({"n": 3} if w == "nstep" else {}))
        _close(got, clean[w], rtol=0, atol=0)
        assert all(np.isfinite(x).all() for x in (got if isinstance(got, tuple) else (got,)))
    got = scanwise.discounted_returns(bad["r"], discount=d["g"], done=bad["done"],
                                      valid=d["valid"])
    want = scanwise.discounted_returns(d["r"], discount=d["g"], done=d["done"], valid=d["valid"])
    np.testing.assert_array_equal(got, want)


def test_float32_and_float16_against_float64():
    d = _data(23, 64, 16, p_valid=0.8)
    for dt, tol in ((np.float32, 1e-4), (np.float16, 2e-2)):
        low = {k: (x.astype(dt) if x is not None and x.dtype.kind == "f" else x)
               for k, x in d.items()}
        ref = {k: (x.astype(np.float64) if x is not None and x.dtype.kind == "f" else x)
               for k, x in low.items()}
        for which in WHICH:
            kw = {"n": 5} if which == "nstep" else {}
            got = _ours(low, which, **kw)
            got = got if isinstance(got, tuple) else (got,)
            assert all(x.dtype == dt for x in got)
            _close(got, _oracle(ref, which, n=5), rtol=tol, atol=tol * 10)


def test_any_axis_and_non_contiguous():
    d = _data(24, 19, 12, p_done=0.3)
    for which in WHICH:
        kw = {"n": 4} if which == "nstep" else {}
        want = _ours(d, which, **kw)
        want = want if isinstance(want, tuple) else (want,)
        # time on axis 1 of a 3-D array, every input a strided slice of a bigger one
        wide = {k: (x if x is None else np.repeat(x.T.reshape(3, 4, 19).transpose(0, 2, 1),
                                                  2, axis=2)[:, :, ::2])
                for k, x in d.items()}
        assert not wide["r"].flags.c_contiguous
        wide["valid"] = None
        got = _ours(wide, which, axis=1, **kw)
        got = got if isinstance(got, tuple) else (got,)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a.transpose(0, 2, 1).reshape(12, 19).T, b, **TOL)


def test_inputs_not_modified():
    d = _data(25, 20, 3, p_valid=0.7)
    before = {k: None if x is None else x.copy() for k, x in d.items()}
    for which in WHICH:
        _ours(d, which, **({"n": 3} if which == "nstep" else {}))
    for k, x in d.items():
        if x is not None:
            np.testing.assert_array_equal(x, before[k])


def test_trace_helpers():
    lr = np.log(np.array([0.25, 1.0, 3.0]))
    np.testing.assert_allclose(scanwise.retrace_traces(lr, lam=0.5), [0.125, 0.5, 0.5])
    np.testing.assert_allclose(scanwise.q_lambda_traces(lr, lam=0.5), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(scanwise.tree_backup_traces(np.array([0.2, 1.0]), lam=0.5),
                               [0.1, 0.5])
    # Retrace with pi = mu and lam = 1 is the on-policy Q target: traces 1
    assert (scanwise.retrace_traces(np.zeros(4)) == 1).all()


# --- torch and dask ------------------------------------------------------------------


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    d = _data(26, 30, 4)
    want = {w: _ours(d, w, **({"n": 3} if w == "nstep" else {})) for w in WHICH}
    t = {k: (x if x is None else torch.from_numpy(x)) for k, x in d.items()}
    for w in WHICH:
        got = _ours(t, w, **({"n": 3} if w == "nstep" else {}))
        got = got if isinstance(got, tuple) else (got,)
        assert all(isinstance(x, torch.Tensor) and x.dtype == torch.float64 for x in got)
        _close(tuple(x.numpy() for x in got), want[w], rtol=0, atol=0)
    tr = scanwise.retrace_traces(torch.zeros(3, dtype=torch.float32), lam=0.5)
    assert isinstance(tr, torch.Tensor) and tr.dtype == torch.float32


def test_dask_equals_numpy():
    da = pytest.importorskip("dask.array")
    d = _data(27, 41, 5, p_done=0.3, p_valid=0.7)
    for valid in (None, d["valid"]):
        d2 = dict(d, valid=valid)
        lazy = dict(d2, r=da.from_array(d["r"], chunks=(9, 2)))
        for w in WHICH:
            for kw in ({"n": 1}, {"n": 4}, {"n": 60}) if w == "nstep" else ({},):
                want = _ours(d2, w, **kw)
                got = _ours(lazy, w, **kw)
                got = got if isinstance(got, tuple) else (got,)
                _close(tuple(x.compute() for x in got), want, rtol=1e-12, atol=1e-12)
        got = scanwise.discounted_returns(lazy["r"], discount=d["g"], done=d["done"],
                                          valid=valid, bootstrap=d["nv"][-1])
        want = scanwise.discounted_returns(d["r"], discount=d["g"], done=d["done"],
                                           valid=valid, bootstrap=d["nv"][-1])
        np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)


def test_dask_flags_of_shape_t_by_1():
    da = pytest.importorskip("dask.array")
    d = _data(28, 20, 4)
    flag = d["done"][:, :1]
    x = da.from_array(d["r"], chunks=(6, 4))
    for lazy_flag in (flag, da.from_array(flag, chunks=(6, 1))):
        got = scanwise.gae(x, d["v"], d["nv"], terminated=lazy_flag, discount=0.9, lam=0.8)
        want = scanwise.gae(d["r"], d["v"], d["nv"], terminated=flag, discount=0.9, lam=0.8)
        _close(tuple(a.compute() for a in got), want, rtol=1e-12, atol=1e-12)
        got = scanwise.discounted_returns(x, discount=0.9, done=lazy_flag)
        np.testing.assert_allclose(
            got.compute(), scanwise.discounted_returns(d["r"], discount=0.9, done=flag),
            rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="terminated"):
        scanwise.gae(x, d["v"], d["nv"], terminated=flag[0], discount=0.9, lam=0.8)


# --- errors ----------------------------------------------------------------------------


def _vt(**kw):
    args = dict(log_rhos=np.zeros((5, 2)), terminated=np.zeros((5, 2), bool), discount=0.9)
    args.update(kw)
    return scanwise.vtrace(np.ones((5, 2)), np.zeros((5, 2)), np.zeros((5, 2)), **args)


def _ns(**kw):
    args = dict(n=2, terminated=np.zeros((5, 2), bool), discount=0.9)
    args.update(kw)
    return scanwise.n_step_returns(np.ones((5, 2)), np.zeros((5, 2)), **args)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: _vt(log_rhos=np.zeros((5, 3))), ValueError, "log_rhos"),
        (lambda: _vt(log_rhos=np.zeros(5)), ValueError, "log_rhos"),
        (lambda: _vt(clip_rho=-1.0), ValueError, "clip_rho"),
        (lambda: _vt(clip_c=float("nan")), ValueError, "clip_c"),
        (lambda: _vt(clip_pg_rho="1"), TypeError, "clip_pg_rho"),
        (lambda: _vt(lam=1.5), ValueError, "lam"),
        (lambda: _vt(discount=np.ones((4, 2))), ValueError, "discount"),
        (lambda: _vt(valid=np.ones(2, bool)), ValueError, "valid"),
        (lambda: _vt(valid=np.full((5, 2), 3)), ValueError, "valid"),
        (lambda: _ns(n=0), ValueError, "n must be >= 1"),
        (lambda: _ns(n=2.0), TypeError, "n must be an integer"),
        (lambda: _ns(n=True), TypeError, "n must be an integer"),
        (lambda: _ns(terminated=np.zeros(2, bool)), ValueError, "terminated"),
        (lambda: scanwise.off_policy_returns(np.ones((5, 2)), np.zeros((5, 2)), np.zeros((5, 2)),
                                             traces=np.zeros((5, 1)),
                                             terminated=np.zeros((5, 2), bool), discount=0.9),
         ValueError, "traces"),
        (lambda: scanwise.gae(np.ones((5, 2)), np.zeros((5, 2)), np.zeros((5, 2)),
                              terminated=np.zeros((5, 2), bool), discount=np.ones((5, 3)),
                              lam=0.9), ValueError, "discount"),
        (lambda: scanwise.retrace_traces(np.zeros(3), lam=2.0), ValueError, "lam"),
    ],
)
def test_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_labelled_inputs_refused_by_the_new_estimators():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="NumPy arrays"):
        scanwise.n_step_returns(pd.Series([1.0, 2.0]), np.zeros(2), n=1,
                                terminated=np.zeros(2, bool), discount=0.9)
