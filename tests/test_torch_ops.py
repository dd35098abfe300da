"""The PyTorch backend's differentiable scans (issue 21) against plain PyTorch loops.

The oracle of every gradient is autograd through a loop written here, one step at a
time with torch's own ``*``, ``+``, ``logaddexp`` and ``where``: nothing of scanwise's
kernels or formulas.  ``gradcheck`` (float64, finite differences) checks the same ops
independently.  Sizes are tiny: each case costs milliseconds once the kernels compiled.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scanwise  # noqa: E402
from scanwise import reference  # noqa: E402

T, C = 5, 3
F64 = torch.float64


# ------------------------------------------------------------------ the oracles
def _reduced(state, shape, dim):
    """A state (keep-dims or reduced shape) as a tensor of the shape without ``dim``."""
    reduced = shape[:dim] + shape[dim + 1 :]
    s = torch.as_tensor(state, dtype=F64)
    if s.ndim == len(shape) and s.shape[dim] == 1:
        s = s.squeeze(dim)
    return s.expand(reduced)


def loop(step, a, b, dim=0, initial=None, reverse=False, reset=None, reset_value=None):
    """``h = step(h, a[t], b[t])``; the first step from ``initial``, resets from
    ``reset_value``, and ``h = b[t]`` where that state is None (the identity)."""
    a = torch.as_tensor(a, dtype=b.dtype)
    shape = torch.broadcast_shapes(a.shape, b.shape)
    a_t = a.expand(shape).movedim(dim, 0)
    b_t = b.expand(shape).movedim(dim, 0)
    r_t = None if reset is None else torch.as_tensor(reset).expand(shape).movedim(dim, 0)
    init = None if initial is None else _reduced(initial, shape, dim)
    rval = None if reset_value is None else _reduced(reset_value, shape, dim)
    n = b_t.shape[0]
    outs = [None] * n
    h = None
    for t in reversed(range(n)) if reverse else range(n):
        state = init if h is None else h
        new = b_t[t] if state is None else step(state, a_t[t], b_t[t])
        if r_t is not None:
            restart = b_t[t] if rval is None else step(rval, a_t[t], b_t[t])
            new = torch.where(r_t[t], restart, new)
        h = new
        outs[t] = h
    return torch.stack(outs).movedim(0, dim)


def linear_loop(a, b, **kw):
    return loop(lambda h, at, bt: at * h + bt, a, b, **kw)


def log_loop(x, **kw):
    return loop(lambda h, _, xt: torch.logaddexp(h, xt), 0.0, x, **kw)


def _leaf(shape, seed, low=None):
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(shape, generator=g, dtype=F64) if low is not None else torch.randn(
        shape, generator=g, dtype=F64
    )
    if low is not None:
        t = low + (1 - low) * t
    return t.requires_grad_()


def _flags(shape, seed, p=0.35):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) < p


def _same_grads(got_fn, want_fn, inputs):
    """Forward and every input's gradient agree (one random cotangent)."""
    got, want = got_fn(*inputs), want_fn(*inputs)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    cot = torch.randn(got.shape, generator=torch.Generator().manual_seed(7), dtype=F64)
    g1 = torch.autograd.grad(got, inputs, cot, allow_unused=True)
    g2 = torch.autograd.grad(want, inputs, cot, allow_unused=True)
    for x, y, t in zip(g1, g2, inputs, strict=True):
        # an input that cannot reach the output: no gradient (None) or zeros
        x, y = (torch.zeros_like(t) if g is None else g for g in (x, y))
        torch.testing.assert_close(x, y, rtol=1e-11, atol=1e-12)


# ------------------------------------------------------------------ linear_recurrence
A_KINDS = {"scalar": None, "per-step": (T, 1), "per-channel": (C,), "full": (T, C)}


@pytest.mark.parametrize(
    ("a_kind", "reverse", "with_reset", "with_initial"),
    list(itertools.product(A_KINDS, (False, True), (False, True), (False, True))),
)
def test_linear_recurrence_gradients(a_kind, reverse, with_reset, with_initial):
    b = _leaf((T, C), 1)
    a = 0.7 if A_KINDS[a_kind] is None else _leaf(A_KINDS[a_kind], 2, low=-1.0)
    reset = _flags((T, C), 3) if with_reset else None
    initial = _leaf((C,), 4) if with_initial else None
    # reset_value with initial only: the kernel signatures the NumPy tests compile
    rval = _leaf((C,), 5) if with_reset and with_initial else None
    tensors = [t for t in (a, b, initial, rval) if isinstance(t, torch.Tensor)]

    def unpack(args):
        it = iter(args)
        return [next(it) if isinstance(t, torch.Tensor) else t for t in (a, b, initial, rval)]

    def got(*args):
        aa, bb, ii, rr = unpack(args)
        return scanwise.linear_recurrence(aa, bb, dim=0, initial=ii, reverse=reverse,
                                          reset=reset, reset_value=rr)

    def want(*args):
        aa, bb, ii, rr = unpack(args)
        return linear_loop(aa, bb, initial=ii, reverse=reverse, reset=reset, reset_value=rr)

    _same_grads(got, want, tensors)
    assert torch.autograd.gradcheck(got, tensors)


def test_linear_recurrence_along_a_middle_axis_of_a_strided_tensor():
    base = _leaf((4, 6, 3), 11)
    b = base.transpose(0, 2)  # (3, 6, 4), not contiguous
    a = _leaf((1, 6, 1), 12, low=0.0)
    reset = _flags((1, 6, 4), 13)
    init = _leaf((3, 4), 14)

    def got(a, b, init):
        return scanwise.linear_recurrence(a, b, axis=1, initial=init, reset=reset, reverse=True)

    def want(a, b, init):
        return linear_loop(a, b, dim=1, initial=init, reset=reset, reverse=True)

    _same_grads(got, want, [a, b, init])


def test_discounted_cumsum_gradients_for_x_and_a_tensor_discount():
    x = _leaf((T, C), 21)
    for discount in (_leaf((C,), 22, low=0.0), _leaf((), 23, low=0.0)):
        reset = _flags((T, 1), 24)
        init = _leaf((1, C), 25)

        def got(x, d, init, reset=reset):
            return scanwise.discounted_cumsum(x, d, axis=0, reverse=True, reset=reset,
                                              initial=init)

        def want(x, d, init, reset=reset):
            return linear_loop(d, x, reverse=True, reset=reset, initial=init)

        _same_grads(got, want, [x, discount, init])
        assert torch.autograd.gradcheck(got, (x, discount, init))


# ------------------------------------------------------------------ cumsum / cumprod
@pytest.mark.parametrize(("reverse", "with_reset", "include_initial"),
                         list(itertools.product((False, True), repeat=3)))
def test_cumsum_gradients(reverse, with_reset, include_initial):
    x, init, rval = _leaf((T, C), 31), _leaf((C,), 32), _leaf((C,), 33)
    reset = _flags((T, C), 34) if with_reset else None

    def got(x, init, rval):
        return scanwise.cumsum(x, axis=0, reverse=reverse, reset=reset, initial=init,
                               reset_value=rval if with_reset else None,
                               include_initial=include_initial)

    def want(x, init, rval):
        h = linear_loop(1.0, x, reverse=reverse, reset=reset, initial=init,
                        reset_value=rval if with_reset else None)
        if include_initial:
            h = torch.cat([h, init[None]] if reverse else [init[None], h])
        return h

    _same_grads(got, want, [x, init, rval])
    assert torch.autograd.gradcheck(got, (x, init, rval))


@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_gradient_with_zeros_matches_torch_cumprod(reverse):
    x = torch.tensor([[1.5, 0.0, 2.0, 0.0, 3.0, -0.5], [0.0, 0.0, 1.0, 2.0, 0.0, 4.0]],
                     dtype=F64).T.contiguous().requires_grad_()

    def want(x):
        return (torch.cumprod(x.flip(0), 0).flip(0) if reverse else torch.cumprod(x, 0))

    def got(x):
        return scanwise.cumprod(x, dim=0, reverse=reverse)

    _same_grads(got, want, [x])
    assert torch.autograd.gradcheck(got, (x,))


def test_cumprod_gradients_with_initial_and_reset():
    x, init, rval = _leaf((T, C), 41), _leaf((C,), 42), _leaf((C,), 43)
    reset = _flags((T, C), 44)
    with torch.no_grad():
        x[2, 1] = 0.0

    def got(x, init, rval):
        return scanwise.cumprod(x, axis=0, initial=init, reset=reset, reset_value=rval,
                                include_initial=True)

    def want(x, init, rval):
        h = loop(lambda h, at, xt: h * xt, 0.0, x, initial=init, reset=reset,
                 reset_value=rval)
        # a reset step without reset_value restarts from the identity 1 (h = x)
        return torch.cat([init[None], h])

    _same_grads(got, want, [x, init, rval])
    assert torch.autograd.gradcheck(got, (x, init, rval))


# ------------------------------------------------------------------ logcumsumexp
@pytest.mark.parametrize(("reverse", "with_reset"), list(itertools.product((False, True),
                                                                            repeat=2)))
def test_logcumsumexp_gradients(reverse, with_reset):
    x, init, rval = _leaf((T, C), 51), _leaf((C,), 52), _leaf((C,), 53)
    reset = _flags((T, C), 54) if with_reset else None

    def got(x, init, rval):
        return scanwise.logcumsumexp(x, dim=0, reverse=reverse, reset=reset, initial=init,
                                     reset_value=rval if with_reset else None)

    def want(x, init, rval):
        return log_loop(x, reverse=reverse, reset=reset, initial=init,
                        reset_value=rval if with_reset else None)

    _same_grads(got, want, [x, init, rval])
    assert torch.autograd.gradcheck(got, (x, init, rval))


def test_logcumsumexp_matches_torch_and_is_finite_at_minus_inf():
    x = _leaf((T, C), 61)
    torch.testing.assert_close(scanwise.logcumsumexp(x, dim=1), torch.logcumsumexp(x, 1))
    inf = float("inf")
    # masked (-inf) entries: torch.logcumsumexp's gradient is NaN at a leading -inf;
    # here the step h = x (state and input -inf) passes the gradient to x only
    x = torch.tensor([-inf, -inf, 0.0, -inf, 1.0], dtype=F64, requires_grad=True)
    h = scanwise.logcumsumexp(x)
    (g,) = torch.autograd.grad(h.sum(), x)
    hv = h.detach()
    np.testing.assert_array_equal(hv.numpy(), reference.logcumsumexp(x.detach().numpy()))
    # d sum(h) / dx[u] = sum over t >= u of exp(x[u] - h[t]) where h is finite
    want = [1.0, 1.0] + [sum(np.exp(x[u].item() - hv[t].item()) for t in range(u, 5))
                         for u in (2, 3, 4)]
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-14)
    assert torch.isfinite(g).all()
    # where torch's gradient is finite, the two agree
    y = torch.tensor([0.5, -inf, 1.0, -inf], dtype=F64, requires_grad=True)
    g1 = torch.autograd.grad(scanwise.logcumsumexp(y).sum(), y)[0]
    g2 = torch.autograd.grad(torch.logcumsumexp(y, 0).sum(), y)[0]
    torch.testing.assert_close(g1, g2)


# ------------------------------------------------------------------ dtypes, layouts
def test_results_follow_torch_dtypes():
    # dtypes only: fake tensors run the ops' fake kernels (no kernel compiled)
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        x = torch.ones(2, 2, dtype=torch.int32)
        f32, f64 = x.float(), x.double()
        assert scanwise.cumsum(x, dim=0).dtype == torch.cumsum(x, 0).dtype == torch.int64
        assert scanwise.cumprod(x.bool(), dim=0).dtype == torch.int64
        default = torch.get_default_dtype()
        assert scanwise.logcumsumexp(x, dim=0).dtype == default
        assert scanwise.linear_recurrence(x, x, dim=0).dtype == default
        assert scanwise.discounted_cumsum(x, 0.5, dim=0).dtype == default
        # Python numbers and 0-d tensors are weak, as in torch's arithmetic
        assert scanwise.discounted_cumsum(f32, 0.9, dim=0, initial=1.0).dtype == torch.float32
        assert scanwise.linear_recurrence(torch.tensor(0.5, dtype=F64), f32, dim=0).dtype == \
            torch.float32
        assert scanwise.linear_recurrence(torch.full((2,), 0.5, dtype=F64), f32,
                                          dim=0).dtype == F64
        assert scanwise.linear_recurrence(0.5j, f32, dim=0).dtype == torch.complex64
        assert scanwise.cumsum(f64, dim=0, initial=torch.ones(2, dtype=torch.complex64)).dtype \
            == torch.complex128
        assert scanwise.cumsum(f32, dim=0, dtype=torch.float64).dtype == F64
        assert scanwise.cumsum(f32, dim=0, dtype="float64").dtype == F64


def test_integer_tensors_and_inputs_kept():
    x = torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)
    kept = x.clone()
    torch.testing.assert_close(scanwise.cumsum(x, dim=0), torch.cumsum(x, 0))
    torch.testing.assert_close(scanwise.cumprod(x, dim=0), torch.cumprod(x, 0))
    assert torch.equal(x, kept)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_accumulates_in_float32(dtype):
    dt = getattr(torch, dtype)
    x = torch.linspace(0.0, 1.0, 300).reshape(100, 3).to(dt)
    got = scanwise.cumsum(x, dim=0)
    assert got.dtype == dt
    want = torch.cumsum(x.double(), 0)
    # accumulated in float32, rounded once to the input dtype at the end
    np.testing.assert_allclose(got.double().numpy(), want.numpy(),
                               rtol=torch.finfo(dt).eps, atol=0)
    xg = x.clone().requires_grad_()
    scanwise.linear_recurrence(0.9, xg, dim=0).sum().backward()
    assert xg.grad.dtype == dt and torch.isfinite(xg.grad.float()).all()


def test_strided_and_transposed_tensors_match_their_contiguous_copies():
    base = torch.randn(8, 6, 5, dtype=F64)
    for view in (base.transpose(0, 2), base[::2, :, 1:], base.permute(1, 2, 0)):
        for dim in range(3):
            got = scanwise.linear_recurrence(0.5, view, dim=dim, reverse=True)
            want = scanwise.linear_recurrence(0.5, view.contiguous(), dim=dim, reverse=True)
            assert torch.equal(got, want)
            np.testing.assert_allclose(
                got.numpy(), reference.linear_recurrence(0.5, view.numpy(), axis=dim,
                                                         reverse=True), rtol=1e-13)


def test_outputs_have_empty_like_strides_and_own_their_memory():
    """The CPU ops allocate from NumPy (backends.torch_ops.host_empty_like): the output's
    layout is the one ``torch.empty_like`` gives, it shares no memory with the input,
    and it stays valid after everything else of the call is gone."""
    import gc

    def scan(op, view):
        got = op(view, dim=0)
        assert got.stride() == torch.empty_like(view).stride()
        assert got.untyped_storage().data_ptr() != view.untyped_storage().data_ptr()
        return got

    base = torch.randn(8, 6, 5, dtype=F64)
    views = (base, base.transpose(0, 2), base[::2, :, 1:],
             torch.randn(6, 1, dtype=F64).expand(6, 4))
    cases = [(scanwise.cumsum, torch.cumsum, v) for v in views]
    cases.append((scanwise.logcumsumexp, torch.logcumsumexp, base.transpose(0, 2)))
    for op, peer, view in cases:
        got = scan(op, view)
        gc.collect()
        torch.testing.assert_close(got, peer(view, 0), rtol=1e-13, atol=0)
    x = torch.randn(7, 3, dtype=F64, requires_grad=True)  # backward through the adjoint
    scanwise.cumsum(x, dim=0).backward(torch.ones(7, 3, dtype=F64))
    torch.testing.assert_close(x.grad, torch.arange(7, 0, -1, dtype=F64)[:, None].expand(7, 3))
    # not an autograd view: it can be changed in place with grad on (autograd then refuses
    # a backward through the op, whose output is saved for it, as for torch.exp)
    for op, peer in ((scanwise.cumsum, torch.cumsum), (scanwise.logcumsumexp,
                                                       torch.logcumsumexp)):
        y = op(x, dim=0)
        y.mul_(2.0)
        torch.testing.assert_close(y, 2.0 * peer(x, 0))


def test_empty_and_length_one():
    for n in (0, 1):
        x = torch.randn(n, 2, dtype=F64, requires_grad=True)
        init = torch.randn(2, dtype=F64, requires_grad=True)
        h = scanwise.linear_recurrence(0.5, x, dim=0, initial=init)
        torch.testing.assert_close(h, linear_loop(0.5, x, initial=init) if n else x * 0)
        h.sum().backward()
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(init.grad.numpy(), [0.5 * n] * 2)


def test_dim_and_axis():
    x = torch.randn(3, 4, dtype=F64)
    assert torch.equal(scanwise.cumsum(x, dim=1), scanwise.cumsum(x, axis=1))
    assert torch.equal(scanwise.cumsum(x, dim=-1), torch.cumsum(x, -1))
    with pytest.raises(ValueError, match="axis= or dim="):
        scanwise.cumsum(x, dim=1, axis=0)
    with pytest.raises(ValueError, match="axis must be given"):
        scanwise.cumsum(x)


def test_numpy_operands_beside_a_tensor_are_converted():
    x = torch.ones(4, 2, dtype=F64)
    got = scanwise.cumsum(x, axis=0, reset=np.array([[0], [0], [1], [0]]), initial=[1.0, 2.0])
    np.testing.assert_array_equal(got.numpy(), [[2, 3], [3, 4], [1, 1], [2, 2]])
    # a tensor keyword makes a tensor call
    got = scanwise.cumsum(np.ones(3), initial=torch.tensor(1.0, dtype=F64))
    assert isinstance(got, torch.Tensor)


# ------------------------------------------------------------------ out=, EWM
def test_out_tensor():
    x = torch.randn(5, 2, dtype=F64)
    out = torch.empty(5, 2, dtype=F64)
    assert scanwise.cumsum(x, dim=0, out=out) is out
    torch.testing.assert_close(out, torch.cumsum(x, 0))
    y = x.clone()
    scanwise.cumsum(y, dim=0, out=y)  # in place
    torch.testing.assert_close(y, torch.cumsum(x, 0))
    with pytest.raises(TypeError, match=r"out must be a torch\.Tensor"):
        scanwise.cumsum(x, dim=0, out=np.empty((5, 2)))
    with pytest.raises(ValueError, match="out has shape"):
        scanwise.cumsum(x, dim=0, out=torch.empty(5, dtype=F64))
    with pytest.raises(TypeError, match="cannot hold"):
        scanwise.cumsum(x, dim=0, out=torch.empty(5, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="out= does not support automatic differentiation"):
        scanwise.cumsum(x.requires_grad_(), dim=0, out=out)


def test_ewm_takes_tensors_and_refuses_grad():
    x = torch.tensor([1.0, 2.0, float("nan"), 4.0], dtype=F64)
    got = scanwise.ewm_mean(x, alpha=0.5, dim=0)
    assert isinstance(got, torch.Tensor) and got.dtype == F64
    np.testing.assert_array_equal(got.numpy(), scanwise.ewm_mean(x.numpy(), alpha=0.5))
    res, state = scanwise.ewm_var(x, alpha=0.5, return_state=True)
    assert isinstance(res, torch.Tensor) and isinstance(state, scanwise.EWMState)
    np.testing.assert_array_equal(res.numpy(), scanwise.ewm_var(x.numpy(), alpha=0.5))
    with pytest.raises(TypeError, match="x requires grad, and the EWM statistics are not "
                                        "differentiable"):
        scanwise.ewm_mean(x.requires_grad_(), alpha=0.5, axis=0)
