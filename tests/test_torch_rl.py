"""Gradients of the RL estimators on tensors (issue 21): ``gae``, ``lambda_returns`` and
``discounted_returns`` are linear recurrences, differentiable in ``rewards``,
``values``, ``next_values``, tensor rates and ``bootstrap`` when a tensor requires grad.

Oracles: autograd through plain PyTorch loops written here from the published
recursions (TorchRL's ``(1 - done)`` form, one step at a time; nothing of scanwise's),
``torch.autograd.gradcheck`` (float64 finite differences), and the NumPy path for the
values (the fused kernels).  Sizes are tiny.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scanwise  # noqa: E402

F64 = torch.float64
T, N = 7, 3


# ------------------------------------------------------------------ the oracles
def gae_loop(r, v, nv, term, done, discount, lam, valid=None):
    """``delta = r + g (1 - term) nv - v``, ``A[t] = delta + g lam (1 - done) A[t+1]``,
    time along dim 0; a step where ``valid`` is false repeats the next valid step's
    advantage and return (0 past the last one)."""
    shape = r.shape
    g = torch.as_tensor(discount, dtype=r.dtype).expand(shape)
    lm = torch.as_tensor(lam, dtype=r.dtype).expand(shape)
    term, done = (torch.as_tensor(f).expand(shape).to(r.dtype) for f in (term, done))
    ok = None if valid is None else torch.as_tensor(valid).expand(shape)
    a_next = torch.zeros(shape[1:], dtype=r.dtype)
    ret_next = torch.zeros(shape[1:], dtype=r.dtype)
    advs, rets = [None] * shape[0], [None] * shape[0]
    for t in reversed(range(shape[0])):
        delta = r[t] + g[t] * (1 - term[t]) * nv[t] - v[t]
        a = delta + g[t] * lm[t] * (1 - done[t]) * a_next
        ret = a + v[t]
        if ok is not None:
            a = torch.where(ok[t], a, a_next)
            ret = torch.where(ok[t], ret, ret_next)
        advs[t], rets[t] = a, ret
        a_next, ret_next = a, ret
    return torch.stack(advs), torch.stack(rets)


def returns_loop(r, discount, done=None, bootstrap=None, valid=None):
    """``G[t] = r[t] + g (1 - done[t]) G[t+1]``, ``G[T] = bootstrap``; a skipped step
    repeats ``G[t+1]``."""
    shape = r.shape
    g = torch.as_tensor(discount, dtype=r.dtype).expand(shape)
    dn = torch.zeros(shape) if done is None else torch.as_tensor(done).expand(shape)
    dn = dn.to(r.dtype)
    h = torch.zeros(shape[1:], dtype=r.dtype) if bootstrap is None else \
        torch.as_tensor(bootstrap, dtype=r.dtype).expand(shape[1:])
    outs = [None] * shape[0]
    for t in reversed(range(shape[0])):
        new = r[t] + g[t] * (1 - dn[t]) * h
        h = new if valid is None else torch.where(torch.as_tensor(valid)[t], new, h)
        outs[t] = h
    return torch.stack(outs)


def _leaf(shape, seed, low=None, dtype=F64):
    gen = torch.Generator().manual_seed(seed)
    if low is None:
        t = torch.randn(shape, generator=gen, dtype=dtype)
    else:
        t = low + (1 - low) * torch.rand(shape, generator=gen, dtype=dtype)
    return t.requires_grad_()


def _flags(shape, seed, p):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < p


def _same(got, want, inputs, tol=1e-12):
    """Outputs and every input's gradient agree (one random cotangent per output)."""
    got, want = (x if isinstance(x, tuple) else (x,) for x in (got, want))
    for x, y in zip(got, want, strict=True):
        torch.testing.assert_close(x, y, rtol=tol, atol=tol)
    gen = torch.Generator().manual_seed(99)
    cots = [torch.randn(x.shape, generator=gen, dtype=x.dtype) for x in got]
    g1 = torch.autograd.grad(got, inputs, cots, allow_unused=True)
    g2 = torch.autograd.grad(want, inputs, cots, allow_unused=True)
    for x, y, t in zip(g1, g2, inputs, strict=True):
        x, y = (torch.zeros_like(t) if d is None else d for d in (x, y))
        torch.testing.assert_close(x, y, rtol=tol, atol=tol)


def _numpy(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else x


# the rates: numbers, one per env, per step (a differentiable tensor for every kind)
RATES = {
    "floats": lambda: (0.9, 0.8),
    "per-env": lambda: (_leaf((N,), 11, low=0.5), _leaf((N,), 12, low=0.3)),
    "per-step": lambda: (_leaf((T, N), 13, low=0.5), _leaf((T, 1), 14, low=0.3)),
    "0-d": lambda: (_leaf((), 15, low=0.5), 0.95),
}


@pytest.mark.parametrize(("rates", "with_valid"),
                         list(itertools.product(RATES, (False, True))))
def test_gae_gradients_against_a_loop_and_values_against_numpy(rates, with_valid):
    r, v, nv = _leaf((T, N), 1), _leaf((T, N), 2), _leaf((T, N), 3)
    term = _flags((T, N), 4, 0.15)
    done = term | _flags((T, N), 5, 0.2)  # truncations: done != terminated
    valid = _flags((T, N), 6, 0.7) if with_valid else None
    discount, lam = RATES[rates]()
    inputs = [x for x in (r, v, nv, discount, lam) if isinstance(x, torch.Tensor)]

    def unpack(args):
        it = iter(args)
        return [next(it) if isinstance(x, torch.Tensor) else x for x in (r, v, nv, discount, lam)]

    def got(*args):
        rr, vv, nn, g, lm = unpack(args)
        return scanwise.gae(rr, vv, nn, terminated=term, done=done, discount=g, lam=lm,
                            valid=valid)

    def want(*args):
        rr, vv, nn, g, lm = unpack(args)
        return gae_loop(rr, vv, nn, term, done, g, lm, valid)

    adv, ret = got(*inputs)
    assert adv.requires_grad and ret.requires_grad and adv.dtype == F64
    _same(got(*inputs), want(*inputs), inputs)
    assert torch.autograd.gradcheck(got, inputs)
    # the values are the NumPy path's (the fused kernels), bit for bit
    a2, r2 = scanwise.gae(*map(_numpy, (r, v, nv)), terminated=term.numpy(), done=done.numpy(),
                          discount=_numpy(discount), lam=_numpy(lam),
                          valid=None if valid is None else valid.numpy())
    np.testing.assert_array_equal(adv.detach().numpy(), a2)
    np.testing.assert_array_equal(ret.detach().numpy(), r2)
    # lambda_returns is gae's returns, with the same gradients
    lr = scanwise.lambda_returns(r, v, nv, terminated=term, done=done, discount=discount,
                                 lam=lam, valid=valid)
    _same(lr, ret, inputs)


@pytest.mark.parametrize(("rates", "with_done", "with_bootstrap", "with_valid"),
                         list(itertools.product(("floats", "per-env", "per-step"),
                                                (False, True), (False, True), (False, True))))
def test_discounted_returns_gradients(rates, with_done, with_bootstrap, with_valid):
    r = _leaf((T, N), 21)
    discount = RATES[rates]()[0]
    done = _flags((T, N), 22, 0.25) if with_done else None
    boot = _leaf((N,), 23) if with_bootstrap else None
    valid = _flags((T, 1), 24, 0.7) if with_valid else None
    inputs = [x for x in (r, discount, boot) if isinstance(x, torch.Tensor)]

    def unpack(args):
        it = iter(args)
        return [next(it) if isinstance(x, torch.Tensor) else x for x in (r, discount, boot)]

    def got(*args):
        rr, g, b = unpack(args)
        return scanwise.discounted_returns(rr, discount=g, done=done, bootstrap=b, valid=valid)

    def want(*args):
        rr, g, b = unpack(args)
        return returns_loop(rr, g, done, b, valid)

    _same(got(*inputs), want(*inputs), inputs)
    assert torch.autograd.gradcheck(got, inputs)
    host = scanwise.discounted_returns(
        r.detach().numpy(), discount=_numpy(discount), bootstrap=_numpy(boot),
        done=None if done is None else done.numpy(),
        valid=None if valid is None else valid.numpy())
    np.testing.assert_array_equal(got(*inputs).detach().numpy(), host)


def test_time_along_the_last_axis_and_a_per_step_flag_shared_by_envs():
    r, v, nv = (_leaf((N, T), s) for s in (31, 32, 33))
    term = _flags((1, T), 34, 0.3)  # one flag per step, every env
    lam = _leaf((N, 1), 35, low=0.5)  # per env, keep-dims

    def got(r, v, nv, lam):
        return scanwise.gae(r, v, nv, terminated=term, discount=0.9, lam=lam, axis=1)

    def want(r, v, nv, lam):
        a, b = gae_loop(r.T, v.T, nv.T, term.T, term.T, 0.9, lam.T)
        return a.T, b.T

    _same(got(r, v, nv, lam), want(r, v, nv, lam), [r, v, nv, lam])
    boot = _leaf((N, 1), 36)
    _same(scanwise.discounted_returns(r, discount=0.5, bootstrap=boot, axis=1),
          returns_loop(r.T, 0.5, bootstrap=boot[:, 0]).T, [r, boot])


def test_a_done_step_cuts_the_chain_as_a_reset_with_nan_after_it():
    """NaN data in a later episode reaches neither the earlier outputs nor their
    gradients: the done step does not read the carried state (no 0 * NaN)."""
    r = torch.tensor([1.0, 2.0, float("nan"), 1.0], dtype=F64, requires_grad=True)
    v = torch.tensor([0.5, 0.5, float("nan"), 0.0], dtype=F64, requires_grad=True)
    nv = torch.tensor([0.5, 3.0, 0.0, 0.0], dtype=F64, requires_grad=True)
    term = torch.tensor([False, False, False, True])
    done = torch.tensor([False, True, False, True])  # truncated at step 1
    adv, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.9, lam=0.5)
    # the first episode by hand: delta[1] = 2 + 0.9 * 3 - 0.5, delta[0] = 1 + 0.45 - 0.5
    d1, d0 = 2 + 0.9 * 3 - 0.5, 1 + 0.9 * 0.5 - 0.5
    np.testing.assert_allclose(adv[:2].detach().numpy(), [d0 + 0.45 * d1, d1], rtol=1e-15)
    assert torch.isnan(adv[2:3]).all() and torch.isnan(ret[2:3]).all()
    grads = torch.autograd.grad((adv[:2] + ret[:2]).sum(), (r, v, nv))
    for gr in grads:
        assert torch.isfinite(gr).all()
        assert (gr[2:] == 0).all()
    np.testing.assert_allclose(grads[0][:2].numpy(), [2.0, 2.9])  # 2 d(adv0 + adv1)/dr
    g = scanwise.discounted_returns(r, discount=0.9, done=done)
    (gr,) = torch.autograd.grad(g[:2].sum(), r)
    np.testing.assert_array_equal(gr.numpy(), [1.0, 1.9, 0.0, 0.0])


def test_skipped_steps_are_not_read_in_either_direction():
    r = torch.tensor([1.0, float("nan"), 2.0, float("inf")], dtype=F64, requires_grad=True)
    v = torch.tensor([0.0, float("nan"), 1.0, 5.0], dtype=F64, requires_grad=True)
    nv = torch.tensor([1.0, float("nan"), 0.0, float("nan")], dtype=F64, requires_grad=True)
    valid = torch.tensor([True, False, True, False])
    term = torch.tensor([False, True, False, False])  # ignored where skipped
    adv, ret = scanwise.gae(r, v, nv, terminated=term, discount=0.5, lam=1.0, valid=valid)
    want_adv, want_ret = gae_loop(r, v, nv, term & valid, term & valid, 0.5, 1.0, valid)
    torch.testing.assert_close(adv, want_adv)
    torch.testing.assert_close(ret, want_ret)
    # step 2: delta = 2 + 0 - 1 = 1; step 0: 1 + 0.5 - 0 + 0.5 * 1; skipped: the next one's
    np.testing.assert_array_equal(adv.detach().numpy(), [2.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(ret.detach().numpy(), [2.0, 2.0, 2.0, 0.0])
    grads = torch.autograd.grad((adv + ret).sum(), (r, v, nv))
    for gr in grads:
        assert torch.isfinite(gr).all()
        np.testing.assert_array_equal(gr[[1, 3]].numpy(), [0.0, 0.0])
    # d/dr[2]: 0.5 in adv[0] and ret[0], 1 in adv[1:3] and ret[1:3]
    np.testing.assert_array_equal(grads[0].numpy(), [2.0, 0.0, 5.0, 0.0])


def test_float32_and_bfloat16_follow_the_host_path():
    r, v, nv = (_leaf((T, N), s, dtype=torch.float32) for s in (41, 42, 43))
    term = _flags((T, N), 44, 0.2)
    adv, ret = scanwise.gae(r, v, nv, terminated=term, discount=0.99, lam=0.95)
    assert adv.dtype == torch.float32
    host = scanwise.gae(r.detach(), v.detach(), nv.detach(), terminated=term, discount=0.99,
                        lam=0.95)
    assert torch.equal(adv, host[0]) and torch.equal(ret, host[1])
    rb = r.detach().bfloat16().requires_grad_()
    g = scanwise.discounted_returns(rb, discount=0.9)
    assert g.dtype == torch.bfloat16  # computed in float32, as the host path
    assert torch.equal(g, scanwise.discounted_returns(rb.detach(), discount=0.9))
    g.float().sum().backward()
    assert rb.grad.dtype == torch.bfloat16 and torch.isfinite(rb.grad.float()).all()


def test_rules_and_errors_of_the_differentiable_path():
    r = _leaf((T, N), 51)
    z = torch.zeros(T, N, dtype=F64)
    term = torch.zeros(T, N, dtype=torch.bool)
    # 0/1 numbers as flags, NumPy and list operands beside tensors: as the NumPy path
    adv, _ = scanwise.gae(r, z.numpy(), z, terminated=term.int(), discount=[0.5] * N, lam=1.0)
    want, _ = scanwise.gae(r.detach(), z, z, terminated=term, discount=np.full(N, 0.5), lam=1.0)
    assert adv.requires_grad and torch.equal(adv.detach(), want)
    with pytest.raises(ValueError, match="values has shape"):
        scanwise.gae(r, z[:-1], z, terminated=term, discount=0.5, lam=1.0)
    with pytest.raises(ValueError, match=r"terminated with shape \(3,\) does not span"):
        scanwise.gae(r, z, z, terminated=term[0], discount=0.5, lam=1.0)
    with pytest.raises(ValueError, match="done must be boolean or contain only 0 and 1"):
        scanwise.gae(r, z, z, terminated=term, done=z + 2, discount=0.5, lam=1.0)
    with pytest.raises(ValueError, match=r"lam must be finite and lie in \[0, 1\], got an "
                                         "array containing 1.5"):
        scanwise.gae(r, z, z, terminated=term, discount=0.5, lam=torch.full((N,), 1.5))
    with pytest.raises(ValueError, match=r"discount must be finite and lie in \[0, 1\]"):
        scanwise.discounted_returns(r, discount=float("nan"))
    with pytest.raises(TypeError, match="discount must be a number in"):
        scanwise.discounted_returns(r, discount=True)
    with pytest.raises(ValueError, match="does not broadcast to the non-time shape"):
        scanwise.discounted_returns(r, discount=torch.full((N + 1,), 0.5))
    with pytest.raises(ValueError, match="bootstrap with shape"):
        scanwise.discounted_returns(r, discount=0.5, bootstrap=torch.zeros(N + 1))
    with pytest.raises(TypeError, match="must be real"):
        scanwise.gae(r, z.to(torch.complex128), z, terminated=term, discount=0.5, lam=1.0)
    with pytest.raises(TypeError, match="out= takes NumPy arrays"):
        scanwise.gae(r, z, z, terminated=term, discount=0.5, lam=1.0,
                     out=(np.empty((T, N)), np.empty((T, N))))
    with pytest.raises(ValueError, match="dim= is for xarray inputs"):
        scanwise.discounted_returns(r, discount=0.5, dim=0)
    with pytest.raises(TypeError, match="values is a tensor on the 'meta' device"):
        scanwise.gae(r, z.to("meta"), z, terminated=term, discount=0.5, lam=1.0)


def test_host_only_estimators_refuse_a_tensor_that_requires_grad():
    r = _leaf((T, N), 61)
    z = torch.zeros(T, N, dtype=F64)
    term = torch.zeros(T, N, dtype=torch.bool)
    calls = {
        "vtrace": lambda: scanwise.vtrace(r, z, z, log_rhos=z, terminated=term, discount=0.9),
        "n_step_returns": lambda: scanwise.n_step_returns(r, z, n=2, terminated=term,
                                                          discount=0.9),
        "off_policy_returns": lambda: scanwise.off_policy_returns(
            r, z, z, traces=z, terminated=term, discount=0.9),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=rf"rewards requires grad, and {name} is computed "
                                            r"on the host without gradients.*detach\(\)"):
            call()
    # without grad they take tensors as before
    assert isinstance(scanwise.vtrace(r.detach(), z, z, log_rhos=z, terminated=term,
                                      discount=0.9)[0], torch.Tensor)


def test_gae_in_a_compiled_ppo_loss_equals_eager():
    """``fullgraph=True`` (aot_eager: graph capture, fake kernels and autograd): the
    estimator and the loss in one graph; flags are bool tensors under compile."""
    def loss(r, v, nv, term, done):
        adv, ret = scanwise.gae(r, v, nv, terminated=term, done=done, discount=0.99,
                                lam=0.95)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        return (adv * v).mean() + ((ret.detach() - v) ** 2).mean()

    r, nv = _leaf((T, N), 71).detach(), _leaf((T, N), 72).detach()
    v = _leaf((T, N), 73)
    term = _flags((T, N), 74, 0.2)
    done = term | _flags((T, N), 75, 0.2)
    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    got, want = compiled(r, v, nv, term, done), loss(r, v, nv, term, done)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(got, v)[0], torch.autograd.grad(want, v)[0],
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(Exception, match=r"terminated must be a bool tensor under torch\.compile"):
        compiled(r, v, nv, term.int(), done)
