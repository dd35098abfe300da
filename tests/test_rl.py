"""RL estimators against reference loops of TorchRL, SB3, CleanRL and rlax (and TorchRL itself)."""

from __future__ import annotations

import numpy as np
import pytest
import rl_refs
from hypothesis import given
from hypothesis import strategies as st

import scanwise


def _rollout(rng, t, n, dtype=np.float64, p_term=0.1, p_trunc=0.05):
    r = rng.standard_normal((t, n)).astype(dtype)
    v = rng.standard_normal((t, n)).astype(dtype)
    nv = rng.standard_normal((t, n)).astype(dtype)
    term = rng.random((t, n)) < p_term
    done = term | (rng.random((t, n)) < p_trunc)
    return r, v, nv, term, done


@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 40),
    st.integers(1, 5),
    st.sampled_from([0.0, 0.5, 0.99, 1.0]),
    st.sampled_from([0.0, 0.95, 1.0]),
    st.sampled_from([0.0, 0.1, 1.0]),
)
def test_gae_matches_torchrl_algorithm(seed, t, n, gamma, lam, p):
    rng = np.random.default_rng(seed)
    r, v, nv, term, done = _rollout(rng, t, n, p_term=p, p_trunc=p / 2)
    want_a, want_r = rl_refs.torchrl_gae(gamma, lam, v, nv, r, done, term)
    a, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=gamma, lam=lam)
    np.testing.assert_allclose(a, want_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, want_r, rtol=1e-12, atol=1e-12)
    # [N, T] layout, axis=1
    a1, r1 = scanwise.gae(
        r.T, v.T, nv.T, terminated=term.T, done=done.T, discount=gamma, lam=lam, axis=1
    )
    np.testing.assert_allclose(a1, want_a.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r1, want_r.T, rtol=1e-12, atol=1e-12)
    lr = scanwise.lambda_returns(r, v, nv, terminated=term, done=done, discount=gamma, lam=lam)
    np.testing.assert_allclose(lr, want_r, rtol=1e-12, atol=1e-12)


def test_gae_sb3_and_cleanrl_mappings(rng):
    t, n, gamma, lam = 64, 6, 0.99, 0.95
    r = rng.standard_normal((t, n))
    v = rng.standard_normal((t, n))
    episode_starts = (rng.random((t, n)) < 0.1).astype(np.float64)
    last_values = rng.standard_normal(n)
    dones = rng.random(n) < 0.5
    want_a, want_r = rl_refs.sb3_gae(r, v, episode_starts, last_values, dones, gamma, lam)
    next_values = np.concatenate([v[1:], last_values[None]])
    ended = np.concatenate([episode_starts[1:], dones[None]]).astype(bool)
    a, ret = scanwise.gae(r, v, next_values, terminated=ended, discount=gamma, lam=lam)
    np.testing.assert_allclose(a, want_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, want_r, rtol=1e-12, atol=1e-12)
    # CleanRL: dones[t] flags the observation at t; next_done / next_value after the last step
    want_a, want_r = rl_refs.cleanrl_gae(
        r, v, episode_starts, last_values, dones.astype(float), gamma, lam
    )
    np.testing.assert_allclose(a, want_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, want_r, rtol=1e-12, atol=1e-12)


def test_gae_rlax_mapping(rng):
    t, n, gamma, lam = 50, 3, 0.9, 0.8
    r = rng.standard_normal((t, n))
    values = rng.standard_normal((t + 1, n))
    discount_t = gamma * (rng.random((t, n)) >= 0.15)
    want = rl_refs.rlax_truncated_gae(r, discount_t, lam, values)
    a, _ = scanwise.gae(
        r, values[:-1], values[1:], terminated=discount_t == 0, discount=gamma, lam=lam
    )
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12)


def test_per_env_discount_and_lam(rng):
    r, v, nv, term, done = _rollout(rng, 30, 4)
    g = np.array([0.9, 0.99, 1.0, 0.0])
    lam = np.array([0.5, 0.95, 1.0, 1.0])
    a, _ = scanwise.gae(r, v, nv, terminated=term, done=done, discount=g, lam=lam)
    for k in range(4):
        want, _ = rl_refs.torchrl_gae(
            g[k], lam[k], v[:, k], nv[:, k], r[:, k], done[:, k], term[:, k]
        )
        np.testing.assert_allclose(a[:, k], want, rtol=1e-12, atol=1e-12)


@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.booleans(), st.booleans())
def test_discounted_returns_matches_loop(seed, t, use_done, use_boot):
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((t, 3))
    done = rng.random((t, 3)) < 0.2 if use_done else np.zeros((t, 3), bool)
    boot = rng.standard_normal(3) if use_boot else 0.0
    got = scanwise.discounted_returns(
        r,
        discount=0.97,
        done=done if use_done else None,
        bootstrap=boot if use_boot else None,
    )
    np.testing.assert_allclose(
        got, rl_refs.discounted_returns(r, 0.97, done, boot), rtol=1e-12, atol=1e-12
    )
    got1 = scanwise.discounted_returns(
        r.T, discount=0.97, done=done.T, bootstrap=boot if use_boot else None, axis=1
    )
    np.testing.assert_allclose(
        got1, rl_refs.discounted_returns(r, 0.97, done, boot).T, rtol=1e-12, atol=1e-12
    )


def test_float32_stays_float32_and_flags_as_numbers(rng):
    r, v, nv, term, done = _rollout(rng, 100, 8, dtype=np.float32)
    a, ret = scanwise.gae(
        r, v, nv, terminated=term.astype(np.float32), done=done.astype(int), discount=0.99, lam=0.95
    )
    assert a.dtype == np.float32 and ret.dtype == np.float32
    want, _ = rl_refs.torchrl_gae(
        0.99, 0.95, v.astype(float), nv.astype(float), r.astype(float), done, term
    )
    np.testing.assert_allclose(a, want, rtol=1e-4, atol=1e-4)
    assert scanwise.discounted_returns(r, discount=0.9).dtype == np.float32


def test_edge_cases(rng):
    r, v, nv, term, _ = _rollout(rng, 1, 2)
    a, _ = scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=0.9)
    np.testing.assert_allclose(a, r + 0.9 * (1 - term) * nv - v)
    r, v, nv, _, _ = _rollout(rng, 10, 2)
    all_done = np.ones((10, 2), bool)
    a, _ = scanwise.gae(r, v, nv, terminated=all_done, discount=0.9, lam=0.9)
    np.testing.assert_allclose(a, r - v)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(discount=1.5, lam=0.9), ValueError, "discount"),
        (dict(discount=0.9, lam=-0.1), ValueError, "lam"),
        (dict(discount="0.9", lam=0.9), TypeError, "discount"),
        (dict(discount=np.ones(3), lam=0.9), ValueError, "discount"),
        (dict(discount=0.9, lam=0.9, terminated=np.ones((5, 3))), ValueError, "terminated"),
        (dict(discount=0.9, lam=0.9, done=np.full((5, 2), 2)), ValueError, "done"),
        (dict(discount=0.9, lam=0.9, values=np.ones((4, 2))), ValueError, "values"),
        (dict(discount=0.9, lam=0.9, axis=3), np.exceptions.AxisError, "axis"),
    ],
)
def test_errors(kwargs, exc, match):
    args = dict(values=np.zeros((5, 2)), terminated=np.zeros((5, 2), bool))
    args.update(kwargs)
    values = args.pop("values")
    with pytest.raises(exc, match=match):
        scanwise.gae(np.ones((5, 2)), values, np.zeros((5, 2)), **args)


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    r, v, nv, term, done = _rollout(rng, 40, 4, dtype=np.float32)
    tr, tv, tnv = (torch.from_numpy(x) for x in (r, v, nv))
    a, ret = scanwise.gae(
        tr,
        tv,
        tnv,
        terminated=torch.from_numpy(term),
        done=torch.from_numpy(done),
        discount=0.99,
        lam=0.95,
    )
    assert isinstance(a, torch.Tensor) and a.dtype == torch.float32 and a.device == tr.device
    want, want_r = rl_refs.torchrl_gae(0.99, 0.95, v, nv, r, done, term)
    np.testing.assert_allclose(a.numpy(), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret.numpy(), want_r, rtol=1e-5, atol=1e-5)
    g = scanwise.discounted_returns(tr.double(), discount=0.9, done=torch.from_numpy(done))
    assert g.dtype == torch.float64
    np.testing.assert_allclose(
        g.numpy(), rl_refs.discounted_returns(r.astype(float), 0.9, done, 0.0), rtol=1e-12
    )


def test_matches_torchrl_itself():
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("torchrl.objectives.value.functional")
    rng = np.random.default_rng(4)
    t, n = 57, 5
    r, v, nv, term, done = _rollout(rng, t, n)

    # TorchRL wants [..., T, 1] with time_dim=-2: put envs first
    def tt(x):
        return torch.from_numpy(np.ascontiguousarray(x.T[..., None]))

    adv, target = functional.generalized_advantage_estimate(
        0.98, 0.9, tt(v), tt(nv), tt(r), tt(done), tt(term), time_dim=-2
    )
    a, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.98, lam=0.9)
    # TorchRL rounds the scalar gamma/lambda through float32 (differences ~1e-7 relative)
    np.testing.assert_allclose(a, adv[..., 0].numpy().T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ret, target[..., 0].numpy().T, rtol=1e-6, atol=1e-6)
    adv2, _ = functional.vec_generalized_advantage_estimate(
        0.98, 0.9, tt(v), tt(nv), tt(r), tt(done), tt(term), time_dim=-2
    )
    np.testing.assert_allclose(a, adv2[..., 0].numpy().T, rtol=1e-6, atol=1e-6)


def test_gae_out(rng):
    r, v, nv, term, done = _rollout(rng, 50, 7)
    want_a, want_r = rl_refs.torchrl_gae(0.99, 0.9, v, nv, r, done, term)
    adv, ret = np.full_like(r, np.nan), np.full_like(r, np.nan)
    got = scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.99, lam=0.9,
                       out=(adv, ret))
    assert got[0] is adv and got[1] is ret
    np.testing.assert_allclose(adv, want_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, want_r, rtol=1e-12, atol=1e-12)
    # in place over the inputs, and through a float32 buffer (cast on the way out)
    for order in ((0, 1), (1, 0)):  # either output over either input, both layouts
        for layout in (lambda a: a, lambda a: a.T):
            rv = [layout(r.copy()), layout(v.copy())]
            res = (rv[order[0]], rv[order[1]])
            ax = 0 if layout(r) is r else 1
            scanwise.gae(rv[0], rv[1], layout(nv), terminated=layout(term), done=layout(done),
                         discount=0.99, lam=0.9, axis=ax, out=res)
            np.testing.assert_allclose(layout(res[0]), want_a, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(layout(res[1]), want_r, rtol=1e-12, atol=1e-12)
    a32, r32 = np.empty(r.shape, np.float32), np.empty(r.shape, np.float32)
    scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.99, lam=0.9, out=(a32, r32))
    np.testing.assert_allclose(a32, want_a, rtol=1e-5, atol=1e-5)
    # an input overlapping the output at another position is copied first
    buf = np.concatenate([r, v])
    scanwise.gae(buf[:50], v, nv, terminated=term, done=done, discount=0.99, lam=0.9,
                 out=(buf[1:51], ret))
    np.testing.assert_allclose(buf[1:51], want_a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "out, exc, match",
    [
        (np.zeros((5, 2)), TypeError, "tuple"),
        ((np.zeros((5, 2)),), TypeError, "tuple"),
        ((np.zeros((5, 3)), np.zeros((5, 2))), ValueError, "shape"),
        ((np.zeros((5, 2), int), np.zeros((5, 2))), TypeError, "dtype"),
        (("a", np.zeros((5, 2))), TypeError, "out"),
    ],
)
def test_gae_out_errors(out, exc, match):
    with pytest.raises(exc, match=match):
        scanwise.gae(np.ones((5, 2)), np.zeros((5, 2)), np.zeros((5, 2)),
                     terminated=np.zeros((5, 2), bool), discount=0.9, lam=0.9, out=out)
    same = np.zeros((5, 2))
    with pytest.raises(ValueError, match="overlap"):
        scanwise.gae(np.ones((5, 2)), same, same, terminated=np.zeros((5, 2), bool),
                     discount=0.9, lam=0.9, out=(same, same))
