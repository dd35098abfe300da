"""The Triton kernels of :mod:`scanwise.backends.triton_linear` under Triton's interpreter.

``TRITON_INTERPRET=1`` must be set before triton is imported, and must not leak into the
rest of the suite (torch.compile's tests import triton too), so the checks run in one
subprocess: this file run as a script executes every function registered with
``@check`` on CPU tensors and prints one JSON line per check, and one pytest item
reports every failed check.  The oracles are plain PyTorch loops written below, one step
at a time in float64, nothing of scanwise's kernels.  The interpreter runs a kernel op by
op in NumPy (a scan element costs ~0.2 ms), so the shapes are small.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("torch")
if importlib.util.find_spec("triton") is None:  # not imported here: see the docstring
    pytest.skip("triton is not installed", allow_module_level=True)

CHECKS: dict[str, Callable[[], None]] = {}


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS[fn.__name__] = fn
    return fn


# ------------------------------------------------------------------ the oracles
def _steps(n: int, reverse: bool) -> range:
    return range(n - 1, -1, -1) if reverse else range(n)


def linear_loop(b, a, init=None, rval=None, reset=None, dim=0, reverse=False):
    """``h = a[t] * h + b[t]`` step by step in float64; ``h = b[t]`` where the state read
    (``init`` first, ``rval`` at resets) is None."""
    import torch

    f = torch.float64
    bt, at = b.to(f).movedim(dim, 0), a.to(f).expand(b.shape).movedim(dim, 0)
    rt = None if reset is None else reset.expand(b.shape).movedim(dim, 0)
    it = None if init is None else init.to(f).movedim(dim, 0)[0]
    vt = None if rval is None else rval.to(f).movedim(dim, 0)[0]
    outs: list[Any] = [None] * bt.shape[0]
    h = None
    for t in _steps(bt.shape[0], reverse):
        state = it if h is None else h
        new = bt[t] if state is None else at[t] * state + bt[t]
        if rt is not None:
            restart = bt[t] if vt is None else at[t] * vt + bt[t]
            new = torch.where(rt[t], restart, new)
        h = new
        outs[t] = h
    return torch.stack(outs).movedim(0, dim)


def abs_loop(b, a, init=None, rval=None, reset=None, dim=0, reverse=False):
    """The same loop on magnitudes: a bound of every partial sum's size."""
    return linear_loop(b.abs(), a.abs(), None if init is None else init.abs(),
                       None if rval is None else rval.abs(), reset, dim, reverse)


def log_loop(x, init=None, rval=None, reset=None, dim=0, reverse=False):
    """``h = logaddexp(h, x[t])`` step by step in float64 (torch.logaddexp)."""
    import torch

    f = torch.float64
    xt = x.to(f).movedim(dim, 0)
    rt = None if reset is None else reset.movedim(dim, 0)
    it = None if init is None else init.to(f).movedim(dim, 0)[0]
    vt = None if rval is None else rval.to(f).movedim(dim, 0)[0]
    outs: list[Any] = [None] * xt.shape[0]
    h = None
    for t in _steps(xt.shape[0], reverse):
        state = it if h is None else h
        new = xt[t] if state is None else torch.logaddexp(state, xt[t])
        if rt is not None:
            restart = xt[t] if vt is None else torch.logaddexp(vt, xt[t])
            new = torch.where(rt[t], restart, new)
        h = new
        outs[t] = h
    return torch.stack(outs).movedim(0, dim)


def adjoint_loop(g, a, reset=None, dim=0, reverse=False):
    """``lam[t] = g[t] + a[nxt] * lam[nxt]`` with ``nxt`` the step after ``t`` in scan
    order, ``lam[t] = g[t]`` at the last step or where ``nxt`` resets."""
    import torch

    f = torch.float64
    gt, at = g.to(f).movedim(dim, 0), a.to(f).expand(g.shape).movedim(dim, 0)
    rt = None if reset is None else reset.movedim(dim, 0)
    n = gt.shape[0]
    lam: list[Any] = [None] * n
    order = list(_steps(n, reverse))
    lam[order[-1]] = gt[order[-1]]
    for k in range(n - 2, -1, -1):
        t, nxt = order[k], order[k + 1]
        chained = gt[t] + at[nxt] * lam[nxt]
        lam[t] = chained if rt is None else torch.where(rt[nxt], gt[t], chained)
    return torch.stack(lam).movedim(0, dim)


# ------------------------------------------------------------------ helpers
def _gen(seed: int):
    import torch

    return torch.Generator().manual_seed(seed)


def _case(shape, dim, seed, dtype=None, p_reset=0.1):
    """Random ``b``, ``a`` (in [0.5, 1.1]), states of length 1 along ``dim``, a reset."""
    import torch

    dtype = dtype or torch.float64
    g = _gen(seed)
    b = torch.randn(shape, generator=g, dtype=torch.float64)
    a = 0.5 + 0.6 * torch.rand(shape, generator=g, dtype=torch.float64)
    keep = list(shape)
    keep[dim] = 1
    init = torch.randn(keep, generator=g, dtype=torch.float64)
    rval = torch.randn(keep, generator=g, dtype=torch.float64)
    reset = torch.rand(shape, generator=g) < p_reset
    return b.to(dtype), a.to(dtype), init.to(dtype), rval.to(dtype), reset


def _run_linear(b, a, init, rval, reset, dim, reverse, kernel=None, block=None, out=None,
                a_scalar=0.0):
    import torch

    from scanwise.backends import triton_linear as tlin

    out = torch.empty_like(b) if out is None else out
    tlin.linear(out, b, a, a_scalar, init, rval, reset, dim, reverse, kernel=kernel,
                block=block)
    return out


def _close(out, ref, tol=1e-12):
    import torch

    torch.testing.assert_close(out.to(torch.float64), ref, rtol=tol, atol=tol, equal_nan=True)


def _time_major(shape, dim):
    """A tensor of ``shape`` whose ``dim`` is the fastest axis (channels strided)."""
    import torch

    order = [d for d in range(len(shape)) if d != dim] + [dim]
    base = torch.empty([shape[d] for d in order], dtype=torch.float64)
    return base.permute([order.index(d) for d in range(len(shape))])


LENGTHS = (1, 2, 63, 500, 2049)


# ------------------------------------------------------------------ linear forward
@check
def time_kernel_lengths() -> None:
    """One series per length, time contiguous, every option; 2049 is three chunks."""
    from scanwise.backends import triton_linear as tlin

    for k, n in enumerate(LENGTHS):
        for reverse in (False, True):
            b, a, init, rval, reset = _case((1, n), 1, 10 * k + reverse)
            assert tlin.kernel_for(b, 1) == "time"
            out = _run_linear(b, a, init, rval, reset, 1, reverse)
            _close(out, linear_loop(b, a, init, rval, reset, 1, reverse))


@check
def time_kernel_without_states() -> None:
    """No initial, no reset_value (the identity) with resets; a scalar a; cumsum."""
    import torch

    b, a, _, _, reset = _case((2, 130), 1, 3, p_reset=0.05)
    for reverse in (False, True):
        _close(_run_linear(b, a, None, None, reset, 1, reverse, block=32),
               linear_loop(b, a, None, None, reset, 1, reverse))
        out = _run_linear(b, None, None, None, None, 1, reverse, block=32, a_scalar=0.9)
        _close(out, linear_loop(b, torch.tensor(0.9, dtype=torch.float64), None, None,
                                None, 1, reverse))


@check
def chunk_borders() -> None:
    """Several chunks (block 16 over 100 steps, 7 chunks): resets on the last and first
    step of chunks, in both directions (reverse chunks start at the end)."""
    import torch

    n, block = 100, 16
    b, a, init, rval, _ = _case((2, n), 1, 4)
    reset = torch.zeros((2, n), dtype=torch.bool)
    reset[0, [15, 16, 32, 47, 48, 99]] = True
    reset[1, [0, 83, 84, 67, 51, 3]] = True  # reverse borders: n-1-16k, n-16k
    for reverse in (False, True):
        for rv in (rval, None):
            out = _run_linear(b, a, init, rv, reset, 1, reverse, kernel="time", block=block)
            _close(out, linear_loop(b, a, init, rv, reset, 1, reverse))


@check
def lanes_kernel_lengths() -> None:
    """Channels contiguous (40 series, dim 0 of a C-contiguous [T, 40]), every option."""
    from scanwise.backends import triton_linear as tlin

    for k, n in enumerate(LENGTHS[:4]):
        for reverse in (False, True):
            b, a, init, rval, reset = _case((n, 40), 0, 50 + 10 * k + reverse)
            if n > 1:
                assert tlin.kernel_for(b, 0) == "lanes"
            out = _run_linear(b, a, init, rval, reset, 0, reverse)
            _close(out, linear_loop(b, a, init, rval, reset, 0, reverse))


@check
def lanes_kernel_long() -> None:
    """2049 steps, a block of 16 lanes over 20 series (a partial second block)."""
    b, a, init, _, reset = _case((2049, 20), 0, 7, p_reset=0.01)
    out = _run_linear(b, a, init, None, reset, 0, True, kernel="lanes", block=16)
    _close(out, linear_loop(b, a, init, None, reset, 0, True))


@check
def layouts() -> None:
    """Strided, permuted and broadcast operands, the same answer from both kernels and
    a choice by layout: time-major -> time, channels-last -> lanes, few series -> time."""
    import torch

    from scanwise.backends import triton_linear as tlin

    shape, dim = (3, 37, 4, 5), 1
    b, a, init, rval, reset = _case(shape, dim, 8)
    ref = linear_loop(b, a, init, rval, reset, dim, False)
    tm = _time_major(shape, dim)
    assert tlin.kernel_for(tm, dim) == "time" and tlin.kernel_for(b, dim) == "lanes"
    assert tlin.kernel_for(torch.empty(40, 3), 0) == "time"  # 3 series: too few lanes
    # b permuted (time-major) while the output is C-contiguous, and the other way round
    _close(_run_linear(tm.copy_(b), a, init, rval, reset, dim, False), ref)
    _close(_run_linear(b, a, init, rval, reset, dim, False, out=_time_major(shape, dim)), ref)
    for kernel in ("time", "lanes"):
        _close(_run_linear(b, a, init, rval, reset, dim, False, kernel=kernel), ref)
    # per-channel a and state broadcast with stride 0, a strided slice as the output
    a_c = a[:, :1].expand(shape)
    init_b = init[:1].expand(init.shape)
    big = torch.empty(3, 37, 4, 10, dtype=torch.float64)
    out = _run_linear(b, a_c, init_b, None, reset, dim, True, out=big[..., ::2])
    _close(out, linear_loop(b, a_c, init_b, None, reset, dim, True))
    # six series dims that do not merge: a loop over the leading ones
    b6 = torch.randn(2, 2, 2, 2, 2, 9, dtype=torch.float64).permute(3, 0, 5, 2, 4, 1)
    a6 = torch.rand(b6.shape, dtype=torch.float64)
    out = _run_linear(b6, a6, None, None, None, 2, False, out=torch.empty(b6.shape,
                                                                         dtype=b6.dtype))
    _close(out, linear_loop(b6, a6, None, None, None, 2, False))


@check
def signed_zero_and_int64() -> None:
    """cumprod's form (b = -0.0 broadcast, a = x): -0.0 crosses a chunk border as -0.0;
    int64 cumsum and cumprod are exact."""
    import torch

    x = torch.tensor([[-1.0] + [0.0] * 15 + [5.0] * 4], dtype=torch.float64)
    zero = torch.tensor(-0.0, dtype=torch.float64).expand(x.shape)
    one = torch.ones(1, 1, dtype=torch.float64)
    out = _run_linear(zero, x, one, None, None, 1, False, kernel="time", block=16,
                      out=torch.empty_like(x))
    ref = linear_loop(zero, x, one, None, None, 1, False)
    assert torch.equal(torch.signbit(out), torch.signbit(ref)), (out, ref)
    assert bool(torch.signbit(out[0, 16:]).all())
    xi = torch.randint(-3, 4, (2, 40), generator=_gen(9))
    reset = torch.rand(2, 40, generator=_gen(10)) < 0.2
    out = _run_linear(xi, None, None, None, reset, 1, False, a_scalar=1.0, block=16)
    expect = linear_loop(xi, torch.ones(()), None, None, reset, 1, False).to(torch.int64)
    assert out.dtype == torch.int64 and torch.equal(out, expect)
    zi = torch.zeros((), dtype=torch.int64).expand(xi.shape)
    out = _run_linear(zi, xi, torch.ones(2, 1, dtype=torch.int64), None, None, 1, True,
                      out=torch.empty_like(xi))
    assert torch.equal(out, torch.flip(torch.cumprod(torch.flip(xi, [1]), 1), [1]))


@check
def half_precision() -> None:
    """float16/bfloat16 in, accumulated in float32, written in the input dtype: within
    the output's rounding plus float32's accumulation bound of a float64 loop.

    bfloat16's bound is a whole ulp: Triton 3.9's interpreter truncates float32 to
    bfloat16 (its fp_trunc ignores the rounding mode), where compiled code rounds to
    nearest; float16 is rounded to nearest in both."""
    import torch

    n = 300
    for dtype, eps_out in ((torch.float16, 2.0**-11), (torch.bfloat16, 2.0**-7)):
        for kernel, shape, dim in (("time", (2, n), 1), ("lanes", (n, 16), 0)):
            b, a, init, rval, reset = _case(shape, dim, 11, dtype=dtype, p_reset=0.02)
            out = _run_linear(b, a, init, rval, reset, dim, False, kernel=kernel, block=128)
            assert out.dtype == dtype
            ref = linear_loop(b, a, init, rval, reset, dim, False)  # from the rounded inputs
            mag = abs_loop(b.double(), a.double(), init.double(), rval.double(), reset, dim)
            steps = torch.arange(1, n + 1, dtype=torch.float64)
            steps = steps.view(-1, 1) if dim == 0 else steps.view(1, -1)
            bound = eps_out * ref.abs() + 2 * steps * 2.0**-24 * mag + 1e-30
            err = (out.double() - ref).abs()
            assert bool((err <= bound).all()), (dtype, kernel, float((err / bound).max()))


@check
def deterministic() -> None:
    """Run to run bitwise identical, both kernels and the log space."""
    import torch

    from scanwise.backends import triton_linear as tlin

    b, a, init, rval, reset = _case((3, 80), 1, 12, dtype=torch.float32)
    for kernel, bb, aa, ii, vv, rr, dim in (
        ("time", b, a, init, rval, reset, 1),
        ("lanes", b.T, a.T, init.T, rval.T, reset.T, 0),
    ):
        runs = [_run_linear(bb, aa, ii, vv, rr, dim, False, kernel=kernel, block=16)
                for _ in range(2)]
        assert torch.equal(runs[0].view(torch.int32), runs[1].view(torch.int32))
        logs = []
        for _ in range(2):
            out = torch.empty_like(bb)
            tlin.logcumsumexp(out, bb, ii, vv, rr, dim, True, kernel=kernel, block=16)
            logs.append(out)
        assert torch.equal(logs[0].view(torch.int32), logs[1].view(torch.int32))


@check
def carry_laws() -> None:
    """The combine functions the block scan uses, in both groupings: the interpreter's
    scan is a left fold, a GPU's a tree, so associativity (restart flags in the middle of
    a segment, a NaN or inf before a restart not leaking) is checked here directly, by
    applying the composed maps to a state against applying the three steps in turn."""
    import torch
    import triton
    import triton.language as tl

    # a module global: the interpreter runs a kernel's rewritten source in its globals
    global tlin
    from scanwise.backends import triton_linear as tlin

    @triton.jit
    def both(r_ptr, a_ptr, b_ptr, out_ptr, N: tl.constexpr, LOG: tl.constexpr):
        k = tl.arange(0, N)
        r1 = tl.load(r_ptr + k) != 0
        r2 = tl.load(r_ptr + N + k) != 0
        r3 = tl.load(r_ptr + 2 * N + k) != 0
        a1 = tl.load(a_ptr + k)
        a2 = tl.load(a_ptr + N + k)
        a3 = tl.load(a_ptr + 2 * N + k)
        b1 = tl.load(b_ptr + k)
        b2 = tl.load(b_ptr + N + k)
        b3 = tl.load(b_ptr + 2 * N + k)
        if LOG:
            rl, bl = tlin._combine_log(r1, b1, r2, b2)
            rl, bl = tlin._combine_log(rl, bl, r3, b3)
            rr, br = tlin._combine_log(r2, b2, r3, b3)
            rr, br = tlin._combine_log(r1, b1, rr, br)
            al = bl * 0
            ar = br * 0
        else:
            rl, al, bl = tlin._combine_linear(r1, a1, b1, r2, a2, b2)
            rl, al, bl = tlin._combine_linear(rl, al, bl, r3, a3, b3)
            rr, ar, br = tlin._combine_linear(r2, a2, b2, r3, a3, b3)
            rr, ar, br = tlin._combine_linear(r1, a1, b1, rr, ar, br)
        tl.store(out_ptr + k, rl.to(tl.float64))
        tl.store(out_ptr + N + k, al)
        tl.store(out_ptr + 2 * N + k, bl)
        tl.store(out_ptr + 3 * N + k, rr.to(tl.float64))
        tl.store(out_ptr + 4 * N + k, ar)
        tl.store(out_ptr + 5 * N + k, br)

    n = 64
    g = _gen(18)
    r = torch.rand(3, n, generator=g) < 0.3
    a = torch.rand(3, n, generator=g, dtype=torch.float64) + 0.5
    b = torch.randn(3, n, generator=g, dtype=torch.float64)
    b[0, :8] = math.nan  # before restarts where r[1] / r[2] hold
    b[1, 8:12] = math.inf
    r[1, :4] = r[2, 8:12] = True
    h = torch.randn(n, generator=g, dtype=torch.float64)
    for log in (False, True):
        out = torch.empty(6, n, dtype=torch.float64)
        both[(1,)](r.to(torch.int8), a, b, out, N=n, LOG=log)

        def apply(rr, aa, bb, state, log=log):
            moved = torch.logaddexp(state, bb) if log else aa * state + bb
            return torch.where(rr != 0, bb, moved)

        seq = h
        for i in range(3):
            seq = apply(r[i], a[i], b[i], seq)
        for k in (0, 3):
            _close(apply(out[k], out[k + 1], out[k + 2], h), seq)


# ------------------------------------------------------------------ log space
@check
def logcumsumexp_values() -> None:
    """Against a torch.logaddexp loop: -inf entries and whole -inf series, +inf, NaN
    after a reset does not leak, initial, reset_value, reverse, both kernels, several
    chunks; float32 within float32's bound."""
    import torch

    from scanwise.backends import triton_linear as tlin

    inf = math.inf
    for kernel, n, block in (("time", 70, 16), ("lanes", 70, None)):
        x, _, init, rval, reset = _case((8, n), 1, 13, p_reset=0.05)
        x = 3 * x
        x[0] = -inf  # an empty series
        x[1, ::3] = -inf
        x[2, 5] = inf
        x[3, 10] = math.nan
        reset[3, 30] = True  # no NaN past it (forward); reverse: NaN from 10 down
        init[4] = -inf
        rval[5] = -inf
        for reverse in (False, True):
            for rv in (rval, None):
                args = (init, rv, reset) if reverse else (None, rv, reset)
                if kernel == "lanes":  # the same data channels-contiguous
                    out = torch.empty(x.T.shape, dtype=x.dtype)
                    tlin.logcumsumexp(out, x.T, *(None if s is None else s.T for s in args),
                                      0, reverse, kernel=kernel, block=16)
                    out = out.T
                else:
                    out = torch.empty_like(x)
                    tlin.logcumsumexp(out, x, *args, 1, reverse, kernel=kernel, block=block)
                _close(out, log_loop(x, *args, 1, reverse))
    assert tlin.kernel_for(torch.empty(70, 40), 0) == "lanes"
    # 2049 steps: three chunks of the default block
    x, _, init, rval, reset = _case((1, 2049), 1, 17, p_reset=0.01)
    x[0, 1000:1100] = -inf
    out = torch.empty_like(x)
    tlin.logcumsumexp(out, x, init, rval, reset, 1, True)
    _close(out, log_loop(x, init, rval, reset, 1, True))
    x = torch.randn(3, 200, generator=_gen(14), dtype=torch.float32) * 5
    out = torch.empty_like(x)
    tlin.logcumsumexp(out, x, None, None, None, 1, False, block=64)
    _close(out, log_loop(x, None, None, None, 1, False), tol=1e-5)
    _close(out, torch.logcumsumexp(x.double(), 1), tol=1e-5)


# ------------------------------------------------------------------ adjoint
@check
def adjoint_values() -> None:
    """lam[t] = g[t] + a[t+1] lam[t+1] in scan order, a reset at t+1 cutting the chain;
    both directions, both kernels, scalar a, lengths 1, 2, 63 and several chunks."""
    import torch

    from scanwise.backends import triton_linear as tlin

    for kernel, shape, dim, block in (
        ("time", (2, 1), 1, None), ("time", (2, 2), 1, None), ("time", (2, 63), 1, None),
        ("time", (2, 130), 1, 16), ("lanes", (63, 33), 0, None), ("lanes", (2, 33), 0, None),
    ):
        g, a, _, _, reset = _case(shape, dim, 15 + shape[dim])
        for reverse in (False, True):
            for rs in (reset, None):
                lam = torch.empty_like(g)
                tlin.adjoint(lam, g, a, 0.0, rs, dim, reverse, kernel=kernel, block=block)
                _close(lam, adjoint_loop(g, a, rs, dim, reverse))
        lam = torch.empty_like(g)
        tlin.adjoint(lam, g, None, 0.7, reset, dim, True, kernel=kernel, block=block)
        _close(lam, adjoint_loop(g, torch.tensor(0.7, dtype=torch.float64), reset, dim, True))
    # the gradient of a sum: g broadcast with stride 0
    g = torch.ones((), dtype=torch.float64).expand(3, 50)
    a = torch.rand(3, 50, generator=_gen(16), dtype=torch.float64)
    lam = torch.empty(3, 50, dtype=torch.float64)
    tlin.adjoint(lam, g, a, 0.0, None, 1, False, block=16)
    _close(lam, adjoint_loop(g, a, None, 1, False))


@check
def available() -> None:
    from scanwise.backends import triton_linear as tlin

    assert tlin.available()
    os.environ.pop("TRITON_INTERPRET")
    try:
        import torch

        assert tlin.available() == torch.cuda.is_available()
    finally:
        os.environ["TRITON_INTERPRET"] = "1"


# ------------------------------------------------------------------ compiled code
def compile_for_gpu() -> None:
    """Compile kernel variants to a Hopper (sm_90) cubin: no GPU is needed, and the
    compiler is stricter than the interpreter (types of loop-carried values, constexpr
    branches, casts).  Run without TRITON_INTERPRET (its kernels are not compilable)."""
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from scanwise.backends import triton_linear as tlin

    target = GPUTarget("cuda", 90, 32)
    cases = [  # (out, accumulator, kind, HAS_A, HAS_INIT, HAS_RVAL, HAS_RESET, REVERSE)
        ("*fp32", tl.float32, 0, True, True, True, True, True),
        ("*bf16", tl.float32, 0, False, False, False, False, False),
        ("*fp64", tl.float64, 1, False, True, True, True, False),
        ("*i64", tl.int64, 0, False, False, True, True, True),
    ]
    for out, acc, kind, has_a, has_init, has_rval, has_reset, reverse in cases:
        flags = dict(KIND=kind, HAS_A=has_a, HAS_INIT=has_init, HAS_RVAL=has_rval,
                     HAS_RESET=has_reset, REVERSE=reverse, ACC=acc)
        acc_ptr = {tl.float32: "*fp32", tl.float64: "*fp64", tl.int64: "*i64"}[acc]
        for kernel, extra in ((tlin._time_kernel, {"BITS": tlin._BITS[acc], "BLOCK_T": 1024}),
                              (tlin._lanes_kernel, {"BLOCK_C": 128})):
            const = {**flags, **extra}
            sig = {}
            for name in kernel.arg_names:
                if name in const:
                    sig[name] = "constexpr"
                elif name == "a_ptr":
                    sig[name] = acc_ptr
                elif name == "r_ptr":
                    sig[name] = "*i1"
                elif name.endswith("_ptr"):
                    sig[name] = out
                else:  # sizes i32, strides i64 (both as Triton specialises them)
                    sig[name] = "i64" if name[0] == "s" and name != "n_series" else "i32"
            compiled = triton.compile(ASTSource(kernel, sig, constexprs=const), target=target,
                                      options={"num_warps": 4, **tlin._OPTIONS})
            assert compiled.asm["cubin"], (kernel, out)


# ------------------------------------------------------------------ the runner
def _main() -> None:
    """Run every check (in this process, TRITON_INTERPRET=1), one JSON line each."""
    assert os.environ.get("TRITON_INTERPRET") == "1"
    for name, fn in CHECKS.items():
        t0 = time.perf_counter()
        try:
            fn()
            ok, msg = True, ""
        except Exception:
            ok, msg = False, traceback.format_exc()
        print(json.dumps({"name": name, "ok": ok, "msg": msg,
                          "s": round(time.perf_counter() - t0, 2)}), flush=True)


# One pytest item for the whole run: the interpreter's subprocess costs ~30 s, and one
# item keeps it to one xdist worker (pytest 9.2 with xdist 3.8 does not honour
# xdist_group, so a parametrized set would start the run in both workers).
def test_triton_kernels_interpreted() -> None:
    env = dict(os.environ, TRITON_INTERPRET="1")
    proc = subprocess.run([sys.executable, __file__], env=env, capture_output=True,
                          text=True, timeout=600)
    rows = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rows[row["name"]] = row
    missing = [name for name in CHECKS if name not in rows]
    failed = [row for row in rows.values() if not row["ok"]]
    assert not missing, (f"no report from {missing} (the run died):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    assert not failed, "\n".join(f"{row['name']}:\n{row['msg']}" for row in failed)


def test_kernels_compile_for_a_gpu() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    proc = subprocess.run([sys.executable, "-W", "error::UserWarning", __file__, "--compile"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


if __name__ == "__main__":
    if sys.argv[1:] == ["--compile"]:
        compile_for_gpu()
    else:
        _main()
