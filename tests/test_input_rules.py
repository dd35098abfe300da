"""One rule per kind of argument, the same in every public function: discounts and
rates, flags that mark steps, EWM state settings, torch tensors (dtypes and errors)."""

from __future__ import annotations

import numpy as np
import pytest

import scanwise


# ------------------------------------------------------------------ discounts and rates
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_discount_must_be_finite_everywhere(bad):
    x = np.ones(4)
    with pytest.raises(ValueError, match="discount must be finite"):
        scanwise.discounted_cumsum(x, bad)
    with pytest.raises(ValueError, match="discount must be finite"):
        scanwise.discounted_cumsum(x, np.array([0.5, bad, 0.5, 0.5]))
    with pytest.raises(ValueError, match=r"discount must be finite and lie in \[0, 1\]"):
        scanwise.discounted_returns(x, discount=bad)
    with pytest.raises(ValueError, match=r"discount must be finite and lie in \[0, 1\]"):
        scanwise.gae(x, x, x, terminated=np.zeros(4, bool), discount=bad, lam=0.9)
    with pytest.raises(ValueError, match=r"lam must be finite and lie in \[0, 1\]"):
        scanwise.gae(x, x, x, terminated=np.zeros(4, bool), discount=0.9, lam=bad)


@pytest.mark.parametrize("pole", [-0.5, 1.2, 2.0])
def test_general_ops_take_any_finite_pole_and_rl_ops_do_not(pole):
    """A filter pole outside [0, 1] is legal for the general scans (documented), an RL
    discount is not."""
    x = np.array([1.0, 2.0, -1.0, 0.5])
    want = np.empty(4)
    h = 0.0
    for t in range(4):
        h = pole * h + x[t]
        want[t] = h
    np.testing.assert_allclose(scanwise.discounted_cumsum(x, pole), want, rtol=1e-15)
    with pytest.raises(ValueError, match=r"discount must be finite and lie in \[0, 1\], got"):
        scanwise.discounted_returns(x, discount=pole)
    with pytest.raises(ValueError, match=r"lam must be finite and lie in \[0, 1\]"):
        scanwise.lambda_returns(x, x, x, terminated=np.zeros(4, bool), discount=0.5, lam=pole)


def test_bool_discount_is_refused():
    with pytest.raises(TypeError, match="discount must be a number"):
        scanwise.discounted_cumsum([1.0, 2.0], True)


# ------------------------------------------------------------------ flags mark steps
def test_flags_without_the_time_axis_are_refused():
    t, n = 5, 3
    r = np.ones((t, n))
    per_env = np.array([True, False, True])  # shape (N,): not one flag per step
    msg = r"terminated with shape \(3,\) does not span the time axis"
    with pytest.raises(ValueError, match=msg):
        scanwise.gae(r, r, r, terminated=per_env, discount=0.9, lam=0.9)
    with pytest.raises(ValueError, match=r"done with shape \(3,\) does not span"):
        scanwise.discounted_returns(r, discount=0.9, done=per_env)
    with pytest.raises(ValueError, match=r"reset with shape \(3,\) does not span"):
        scanwise.cumsum(r, axis=0, reset=per_env)
    with pytest.raises(ValueError, match=r"reset with shape \(3,\) does not span"):
        scanwise.ewm_mean(r, alpha=0.5, axis=0, reset=per_env)
    # a square input is where NumPy broadcasting would silently use the wrong axis
    sq = np.ones((3, 3))
    with pytest.raises(ValueError, match=r"np\.broadcast_to"):
        scanwise.cumsum(sq, axis=0, reset=per_env)


def test_flags_with_the_time_axis_may_broadcast_across_series():
    t, n = 6, 3
    rng = np.random.default_rng(0)
    r = rng.standard_normal((t, n))
    step = rng.random(t) < 0.4
    got = scanwise.cumsum(r, axis=0, reset=step[:, None])
    # the plain loop
    want = np.empty_like(r)
    h = np.zeros(n)
    for k in range(t):
        h = np.where(step[k], 0.0, h) + r[k]
        want[k] = h
    np.testing.assert_allclose(got, want, rtol=1e-15)
    full = np.broadcast_to(step[:, None], (t, n))
    np.testing.assert_array_equal(scanwise.cumsum(r, axis=0, reset=full), got)
    # time on axis 1
    np.testing.assert_array_equal(scanwise.cumsum(r.T, axis=1, reset=step[None, :]), got.T)


# ------------------------------------------------------------------ EWM state settings
def test_state_mismatch_reports_the_parameters_as_given():
    x = np.arange(6.0)
    _, st = scanwise.ewm_mean(x[:3], span=28, return_state=True)
    with pytest.raises(ValueError, match=r"computed with span=28.*this call uses span=14"):
        scanwise.ewm_mean(x[3:], span=14, state=st)
    with pytest.raises(ValueError, match=r"computed with span=28.*uses halflife=3"):
        scanwise.ewm_mean(x[3:], halflife=3, state=st)
    with pytest.raises(ValueError, match=r"adjust=True.*adjust=False"):
        scanwise.ewm_mean(x[3:], span=28, adjust=False, state=st)
    # the same decay spelled another way is the same stream (com = (span - 1) / 2)
    got = scanwise.ewm_mean(x[3:], com=13.5, state=st)
    import pandas as pd

    want = pd.Series(x).ewm(span=28).mean().to_numpy()[3:]
    np.testing.assert_allclose(got, want, rtol=1e-13)


# ------------------------------------------------------------------ torch tensors
def _torch():
    return pytest.importorskip("torch")


def test_integer_tensors_are_promoted_not_truncated():
    torch = _torch()
    r = torch.ones(5, 1, dtype=torch.int64)
    adv, ret = scanwise.gae(r, torch.zeros(5, 1, dtype=torch.int64),
                            torch.zeros(5, 1, dtype=torch.int64),
                            terminated=torch.zeros(5, 1, dtype=torch.bool), discount=0.9,
                            lam=0.95)
    assert adv.dtype == torch.get_default_dtype() and ret.dtype == adv.dtype
    # the plain loop of A[t] = r + 0.9 * 0.95 * A[t+1]
    want, h = np.empty(5), 0.0
    for t in range(4, -1, -1):
        h = 1.0 + 0.9 * 0.95 * h
        want[t] = h
    np.testing.assert_allclose(adv[:, 0].numpy(), want, rtol=1e-6)
    g = scanwise.discounted_returns(torch.ones(5, dtype=torch.int64), discount=0.9)
    assert g.dtype == torch.get_default_dtype()
    np.testing.assert_allclose(g.numpy(), [4.0951, 3.439, 2.71, 1.9, 1.0], rtol=1e-6)


def test_tensor_dtypes_follow_torch_promotion():
    torch = _torch()
    r32 = torch.ones(4, dtype=torch.float32)
    v64 = torch.zeros(4, dtype=torch.float64)
    adv, _ = scanwise.gae(r32, v64, v64, terminated=torch.zeros(4, dtype=torch.bool),
                          discount=0.5, lam=1.0)
    assert adv.dtype == torch.promote_types(torch.float32, torch.float64)
    bf = scanwise.discounted_returns(torch.ones(4, dtype=torch.bfloat16), discount=0.5)
    assert bf.dtype == torch.bfloat16
    np.testing.assert_allclose(bf.float().numpy(), [1.875, 1.75, 1.5, 1.0])


def test_tensors_numpy_cannot_hold_get_clear_errors():
    torch = _torch()
    meta = torch.ones(4, device="meta")
    with pytest.raises(TypeError, match="rewards is a tensor on the 'meta' device"):
        scanwise.discounted_returns(meta, discount=0.5)
    sparse = torch.ones(4).to_sparse()
    with pytest.raises(TypeError, match=r"rewards is a torch.sparse_coo tensor"):
        scanwise.discounted_returns(sparse, discount=0.5)
    grad = torch.ones(4, requires_grad=True)
    # gae is differentiable (torch ops around the linear scan): A[t] = sum over k >= t of
    # 0.5**(k - t) * delta[k] with d delta[k] / d values[k] = -1
    adv, _ = scanwise.gae(torch.ones(4), grad, torch.ones(4),
                          terminated=torch.zeros(4, dtype=bool), discount=0.5, lam=1.0)
    np.testing.assert_allclose(adv.detach().numpy(), [0.5 * (2 - 0.5**k) for k in (3, 2, 1, 0)])
    (dv,) = torch.autograd.grad(adv.sum(), grad)
    np.testing.assert_allclose(dv.numpy(), [-1.0, -1.5, -1.75, -1.875])
    with pytest.raises(TypeError, match="x is a tensor on the 'meta' device"):
        scanwise.cumsum(meta)
    # the core scans are differentiable (the PyTorch backend): a tensor needing grad gets one
    summed = scanwise.cumsum(grad)
    summed.sum().backward()
    np.testing.assert_array_equal(grad.grad.numpy(), [4.0, 3.0, 2.0, 1.0])
    with pytest.raises(TypeError, match=r"b is a torch\.sparse_coo tensor"):
        scanwise.linear_recurrence(0.5, sparse)


def test_bfloat16_tensor_in_a_core_scan():
    torch = _torch()
    got = scanwise.cumsum(torch.tensor([1.0, 2.0, 3.0], dtype=torch.bfloat16))
    assert got.dtype == torch.bfloat16  # returned in the input dtype, as torch.cumsum
    np.testing.assert_array_equal(got.float().numpy(), [1.0, 3.0, 6.0])


# ------------------------------------------------------------------ NaN across episodes
def test_nan_in_a_later_episode_does_not_leak_back():
    """A done step cuts the return: NaN after it stays after it (a reset, not 0 * nan)."""
    r = np.array([1.0, 1.0, np.nan, 1.0])
    done = np.array([False, True, False, False])
    for bootstrap in (None, 2.0):
        got = scanwise.discounted_returns(r, discount=0.5, done=done, bootstrap=bootstrap)
        # the plain loop, episode by episode
        tail = 0.0 if bootstrap is None else bootstrap
        want = [1.0 + 0.5 * 1.0, 1.0, np.nan, 1.0 + 0.5 * tail]
        np.testing.assert_array_equal(got, want)
    adv, _ = scanwise.gae(r, np.zeros(4), np.array([0.0, 0.0, np.nan, 0.0]), terminated=done,
                          discount=0.5, lam=0.9)
    assert np.isfinite(adv[:2]).all()
