"""The PyTorch backend under ``torch.library.opcheck`` and ``torch.compile`` (issue 21).

``opcheck`` runs every custom op (``torch.ops.scanwise.*``) through its schema, fake
(meta) kernel, autograd registration and AOT dispatch with dynamic shapes, for each
combination of optional operands that the public wrappers produce.

The compiled tests use ``backend="aot_eager"``: it is the whole of what scanwise
contributes to a compiled graph (Dynamo's trace of the wrappers with no graph break
under ``fullgraph=True``, the fake kernels for shapes, the autograd formulas traced by
AOTAutograd into a joint graph) without Inductor's code generation and C++ compilation,
which is torch's own and costs tens of seconds on a cold cache (the custom ops are
opaque to Inductor: it calls them as it finds them).  One short Inductor test checks
that the ops pass through it too.

The oracle of each compiled run is the same code run eagerly (and the eager ops have
their own oracles in tests/test_torch_ops.py): losses, outputs, gradients and trained
parameters must agree.
"""

from __future__ import annotations

import copy
import itertools

import pytest

torch = pytest.importorskip("torch")

import scanwise  # noqa: E402

F64 = torch.float64
T, C = 6, 3


def _ops():
    from scanwise.backends import torch_ops  # noqa: F401  (registers the ops)

    return torch.ops.scanwise


def _leaf(shape, seed, low=None, grad=True):
    g = torch.Generator().manual_seed(seed)
    if low is None:
        t = torch.randn(shape, generator=g, dtype=F64)
    else:
        t = low + (1 - low) * torch.rand(shape, generator=g, dtype=F64)
    return t.requires_grad_(grad)


def _flags(shape, seed, p=0.3):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < p


# ------------------------------------------------------------------ opcheck
def _state(dim, seed):
    """A canonical state operand: the scan shape with length 1 along ``dim``."""
    shape = [T, C]
    shape[dim] = 1
    return _leaf(tuple(shape), seed)


# (a is a tensor, with initial, with reset, dim, reverse); reset_value comes with reset
# and initial together: the operand sets the wrappers produce and the eager tests
# (tests/test_torch_ops.py) compile kernels for, so that no kernel is compiled for
# opcheck alone (a cold numba compilation costs seconds)
LINEAR_CASES = [
    *itertools.product((False, True), (False, True), (False, True), (0,), (False, True)),
    (False, True, False, 1, True),
    (False, False, False, 1, False),
]


@pytest.mark.parametrize(("a_tensor", "with_initial", "with_reset", "dim", "reverse"),
                         LINEAR_CASES)
def test_opcheck_linear_scan(a_tensor, with_initial, with_reset, dim, reverse):
    b = _leaf((T, C), 1)
    a = _leaf((T, C), 2, low=-1.0) if a_tensor else None
    init = _state(dim, 3) if with_initial else None
    rval = _state(dim, 4) if with_reset and with_initial and dim == 0 else None
    reset = _flags((T, C), 5) if with_reset else None
    torch.library.opcheck(_ops().linear_scan.default,
                          (b, a, 0.0 if a_tensor else 0.8, init, rval, reset, dim, reverse))


def test_opcheck_linear_scan_with_broadcast_operands():
    # the wrappers pass broadcast views (stride 0): a per-step gate, one flag per step
    b = _leaf((T, C), 6)
    a = _leaf((T, 1), 7, low=0.0, grad=False).expand(T, C).requires_grad_()
    reset = _flags((T, 1), 8).expand(T, C)
    torch.library.opcheck(_ops().linear_scan.default,
                          (b, a, 0.0, _state(0, 9), None, reset, 0, True))


@pytest.mark.parametrize(("a_tensor", "with_reset", "reverse"),
                         list(itertools.product((False, True), repeat=3)))
def test_opcheck_linear_adjoint(a_tensor, with_reset, reverse):
    # the backward op has no autograd formula of its own (no double backward): its
    # operands do not require grad
    g = _leaf((T, C), 11, grad=False)
    a = _leaf((T, C), 12, low=-1.0, grad=False) if a_tensor else None
    reset = _flags((T, C), 13) if with_reset else None
    torch.library.opcheck(_ops().linear_adjoint.default,
                          (g, a, 0.0 if a_tensor else 0.7, reset, 0, reverse))


@pytest.mark.parametrize(("with_initial", "with_reset", "reverse"),
                         list(itertools.product((False, True), repeat=3)))
def test_opcheck_logcumsumexp(with_initial, with_reset, reverse):
    x = _leaf((T, C), 21)
    init = _state(0, 22) if with_initial else None
    rval = _state(0, 23) if with_reset and with_initial else None
    reset = _flags((T, C), 24) if with_reset else None
    torch.library.opcheck(_ops().logcumsumexp.default, (x, init, rval, reset, 0, reverse))


def test_opcheck_logcumsumexp_along_dim_1():
    torch.library.opcheck(_ops().logcumsumexp.default,
                          (_leaf((T, C), 25), None, None, None, 1, True))


# ------------------------------------------------------------------ a linear-RNN layer
class LinearRNN(torch.nn.Module):
    """``h[t] = a[t] * h[t-1] + (1 - a[t]) * u[t]`` with input-dependent gates
    ``a = sigmoid(W_a x)`` (a diagonal gated linear RNN, as in HGRN/minGRU), a learnt
    initial state and episode resets; input ``(T, B, d_in)``, time along dim 0."""

    def __init__(self, d_in: int, d_hidden: int) -> None:
        super().__init__()
        self.gate = torch.nn.Linear(d_in, d_hidden)
        self.inp = torch.nn.Linear(d_in, d_hidden)
        self.out = torch.nn.Linear(d_hidden, 1)
        self.h0 = torch.nn.Parameter(0.1 * torch.ones(d_hidden))

    def forward(self, x, reset):
        a = torch.sigmoid(self.gate(x))
        b = (1 - a) * self.inp(x)
        h0 = self.h0.expand(x.shape[1], -1)
        h = scanwise.linear_recurrence(a, b, dim=0, initial=h0, reset=reset)
        return self.out(torch.tanh(h)).squeeze(-1)


def _train(model, step_fn, xs, ys, reset, steps):
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = step_fn(xs, ys, reset)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return torch.stack(losses)


def test_linear_rnn_trained_under_compile_equals_eager():
    torch.manual_seed(0)
    t, batch, d_in, d_hidden = 16, 4, 3, 8
    eager = LinearRNN(d_in, d_hidden).double()
    compiled = copy.deepcopy(eager)
    xs = torch.randn(t, batch, d_in, dtype=F64)
    ys = torch.randn(t, batch, dtype=F64)
    reset = (torch.rand(t, batch, 1) < 0.15)  # bool: its values are not inspected in a graph

    def loss_of(model):
        def step(xs, ys, reset):
            return torch.nn.functional.mse_loss(model(xs, reset), ys)
        return step

    compiled_step = torch.compile(loss_of(compiled), backend="aot_eager", fullgraph=True)
    want = _train(eager, loss_of(eager), xs, ys, reset, steps=4)
    got = _train(compiled, compiled_step, xs, ys, reset, steps=4)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert bool(want[-1] < want[0])  # it trains
    for (name, p), q in zip(compiled.named_parameters(), eager.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12, msg=name)


# ------------------------------------------------------------------ the scans in a graph
def _scans(x, gamma, init, reset):
    """A function of every scan: the compiled graph must hold them all, no break."""
    s = scanwise.cumsum(x, dim=0, reset=reset, initial=init, include_initial=True)
    ls = scanwise.logcumsumexp(x, dim=1, reverse=True)
    dc = scanwise.discounted_cumsum(x, gamma, dim=0, reverse=True, reset=reset)
    dc2 = scanwise.discounted_cumsum(x, 0.9, dim=0, initial=init)
    p = scanwise.cumprod(torch.tanh(x), dim=0, reverse=True)
    return s.sum() + (ls * ls).sum() + (dc * x).sum() + dc2.mean() + p.sum()


def test_scans_in_a_compiled_function_equal_eager():
    x = _leaf((T, C), 31)
    gamma = _leaf((C,), 32, low=0.0)
    init = _leaf((C,), 33)
    reset = _flags((T, C), 34)
    inputs = (x, gamma, init)
    compiled = torch.compile(_scans, backend="aot_eager", fullgraph=True)
    got = compiled(*inputs, reset)
    want = _scans(*inputs, reset)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    g1 = torch.autograd.grad(got, inputs)
    g2 = torch.autograd.grad(want, inputs)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_compiled_scans_take_new_lengths_without_a_graph_break():
    """``dynamic=True``: one graph for every length (the fake kernels are symbolic)."""
    def f(x):
        return scanwise.cumsum(x, dim=0) + scanwise.logcumsumexp(x, dim=0, reverse=True)

    compiled = torch.compile(f, backend="aot_eager", fullgraph=True, dynamic=True)
    for n in (3, 7, 12):
        x = torch.randn(n, 2, dtype=F64)
        torch.testing.assert_close(compiled(x), torch.cumsum(x, 0) + torch.logcumsumexp(
            x.flip(0), 0).flip(0), rtol=1e-12, atol=1e-12)


def test_reset_must_be_bool_under_compile():
    def f(x, r):
        return scanwise.cumsum(x, dim=0, reset=r)

    compiled = torch.compile(f, backend="aot_eager", fullgraph=True)
    x = torch.randn(4, 2, dtype=F64)
    with pytest.raises(Exception, match=r"reset must be a bool tensor under torch\.compile"):
        compiled(x, torch.tensor([[0], [1], [0], [0]]))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own, inside Inductor
def test_inductor_runs_the_custom_ops():
    """The default backend once: Inductor keeps the ops as extern calls around its own
    kernels (forward and backward)."""
    def f(a, b):
        h = scanwise.linear_recurrence(torch.sigmoid(a), b, dim=0, reverse=True)
        return (h * h).sum()

    a, b = _leaf((T, C), 41), _leaf((T, C), 42)
    got = torch.compile(f, fullgraph=True)(a, b)
    want = f(a, b)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for x, y in zip(torch.autograd.grad(got, (a, b)), torch.autograd.grad(want, (a, b)),
                    strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)
