"""Triton kernels of the linear family, the CUDA path of :mod:`scanwise.backends.torch_ops`.

Three entry points write into an output the custom op allocated, with the op's operands
(canonical: broadcast to the scan shape, ``initial``/``reset_value`` of length 1 along
``dim``, ``reset`` a bool tensor or None, ``a`` None where ``a_scalar`` is used):

* :func:`linear` -- ``h[t] = a[t] * h[t-1] + b[t]``;
* :func:`adjoint` -- ``lam[t] = g[t] + a[t+1] * lam[t+1]`` in scan order (a reset at
  ``t+1`` cuts the chain), the same kernel run the other way over views shifted by one;
* :func:`logcumsumexp` -- ``h[t] = logaddexp(h[t-1], x[t])``.

The start and reset rule is the CPU kernels' (:mod:`scanwise._kernels.scans.linear`):
``initial`` is the state before the first step in scan order, at a reset the state is
``reset_value`` instead, and where that state is None (the identity) ``h[t] = b[t]`` (in
log space ``x[t]``) without reading ``a[t]``.

Layout, never a copy.  The dims other than ``dim`` index the series.  They are ordered by
the output's strides (largest first), dims of length 1 dropped, and neighbours merged
where every operand's strides allow it (as torch's TensorIterator does), so that any
layout becomes at most three series dims plus time, passed to the kernels as sizes and
per-operand strides (broadcast operands have stride 0).  A layout that still has more
series dims is walked by a Python loop over the leading ones.

Two kernels, chosen by the output's layout:

* **time kernel** (time is the output's fastest axis, or there are too few series to
  fill lanes): one program per series walks it in chunks of ``BLOCK_T`` steps.  Each chunk
  is one ``tl.associative_scan`` of the affine maps ``(r, a, b)`` under the carry law of
  :mod:`scanwise._carry` (``r`` the restart flag: a restart replaces the state rather
  than scaling it by 0, so a NaN or inf before a reset does not leak through it).  The
  chunk's first step is made a restart from the carry, the last state of the previous
  chunk (from ``initial`` in the first chunk), so every inclusive prefix is a state;
  in log space the maps are ``(r, b)``: ``h -> logaddexp(h, b)``.
* **lanes kernel** (a series dim is the fastest): each program owns ``BLOCK_C``
  neighbouring series, so every load and store is coalesced across lanes, and walks time
  one step at a time as the CPU kernels do.

``reverse`` is index arithmetic: step ``s`` of scan order is index ``n - 1 - s``.
float16/bfloat16/float32 are accumulated in float32 and written in the output's dtype;
float64 in float64; int64 (``cumsum``/``cumprod`` of integers) in int64.  Complex
tensors, which Triton cannot hold, are computed by the CPU kernels on host copies.

Determinism: no atomics; every output is written by exactly one program, and the order
of every floating-point operation depends only on the shape and ``BLOCK_T`` (the scan's
tree, the chunks, the time loop), so results are bitwise identical from run to run.

Not done: splitting one long series across programs (local scans, a carry pass, a
fix-up).  A few very long series run one program each, correct but with little
parallelism on a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import triton
import triton.language as tl

# the lanes kernel needs this many series to fill its programs; fewer, long series run
# faster as one chunked scan each
LANES_MIN = 32
BLOCK_T_MAX = 1024
BLOCK_C_MAX = 128

# no FMA contraction: each step rounds `a * h` and then `+ b`, as the CPU kernels do (the
# lanes kernel runs their operations in their order); the kernels are memory-bound, so
# FMA would buy nothing.  Explicit also because Triton 3.9 warns on the implicit default.
_OPTIONS: dict[str, Any] = {"enable_fp_fusion": False}

_ACC = {
    torch.float16: tl.float32,
    torch.bfloat16: tl.float32,
    torch.float32: tl.float32,
    torch.float64: tl.float64,
    torch.int64: tl.int64,
}
_ACC_TORCH = {tl.float32: torch.float32, tl.float64: torch.float64, tl.int64: torch.int64}
# the integer type a carry is moved through (bit for bit, see _last)
_BITS = {tl.float32: tl.int32, tl.float64: tl.int64, tl.int64: tl.int64}


def available() -> bool:
    """Whether the kernels can run: Triton is importable (it is, if this module is) and
    there is a GPU, or Triton's interpreter runs them on CPU tensors
    (``TRITON_INTERPRET=1``)."""
    return torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1"


# ------------------------------------------------------------------ device helpers
@triton.jit
def _log1p_unit(e):
    # log1p on [0, 1] from log alone (Goldberg's correction), portable to the interpreter
    u = 1.0 + e
    return tl.where(u == 1.0, e, tl.log(u) * (e / (u - 1.0)))


@triton.jit
def _logaddexp(x, y):
    """NumPy's logaddexp: equal arguments give ``x + log 2`` (two infinities of one sign
    included), otherwise the larger plus ``log1p(exp(-|x - y|))``; NaN propagates."""
    m = tl.where(x > y, x, y)
    d = -tl.abs(x - y)
    r = m + _log1p_unit(tl.exp(d))
    r = tl.where(x == y, x + 0.6931471805599453, r)
    return tl.where((d == d) | (x == y), r, x + y)


@triton.jit
def _step(h, a, x, KIND: tl.constexpr):
    if KIND == 0:
        return a * h + x
    else:
        return _logaddexp(h, x)


@triton.jit
def _combine_linear(r1, a1, b1, r2, a2, b2):
    # (r1, a1, b1) then (r2, a2, b2): the carry law of scanwise._carry.compose
    return r1 | r2, tl.where(r2, a2, a2 * a1), tl.where(r2, b2, a2 * b1 + b2)


@triton.jit
def _combine_log(r1, b1, r2, b2):
    return r1 | r2, tl.where(r2, b2, _logaddexp(b1, b2))


@triton.jit
def _last(v, is_last, BITS: tl.constexpr):
    # the one element where is_last holds, exactly (-0.0 and NaN payloads included): an
    # integer sum of its bits and zeros, where a float sum would turn -0.0 into 0.0
    if BITS == v.dtype:
        return tl.sum(tl.where(is_last, v, 0), 0)
    else:
        bits = tl.sum(tl.where(is_last, v.to(BITS, bitcast=True), 0), 0)
        return bits.to(v.dtype, bitcast=True)


@triton.jit
def _series(idx, n1, n2, s0, s1, s2):
    """The offset of series ``idx`` (flat over the three series dims) in one operand."""
    i2 = idx % n2
    q = idx // n2
    return (q // n1) * s0 + (q % n1) * s1 + i2 * s2


@triton.jit
def _time_kernel(
    out_ptr, b_ptr, a_ptr, i_ptr, v_ptr, r_ptr,
    n, n1, n2,
    so0, so1, so2, sot,
    sb0, sb1, sb2, sbt,
    sa0, sa1, sa2, sat,
    si0, si1, si2,
    sv0, sv1, sv2,
    sr0, sr1, sr2, srt,
    KIND: tl.constexpr, HAS_A: tl.constexpr, HAS_INIT: tl.constexpr,
    HAS_RVAL: tl.constexpr, HAS_RESET: tl.constexpr, REVERSE: tl.constexpr,
    ACC: tl.constexpr, BITS: tl.constexpr, BLOCK_T: tl.constexpr,
):
    pid = tl.program_id(0).to(tl.int64)
    ob = out_ptr + _series(pid, n1, n2, so0, so1, so2)
    bb = b_ptr + _series(pid, n1, n2, sb0, sb1, sb2)
    if HAS_A:
        ab = a_ptr + _series(pid, n1, n2, sa0, sa1, sa2)
    else:
        a_s = tl.load(a_ptr).to(ACC)
    if HAS_RESET:
        rb = r_ptr + _series(pid, n1, n2, sr0, sr1, sr2)
    if HAS_INIT:
        init = tl.load(i_ptr + _series(pid, n1, n2, si0, si1, si2)).to(ACC)
    if HAS_RVAL:
        rval = tl.load(v_ptr + _series(pid, n1, n2, sv0, sv1, sv2)).to(ACC)
    j = tl.arange(0, BLOCK_T)
    head = j == 0
    carry = tl.zeros((), ACC)
    for c in range(0, tl.cdiv(n, BLOCK_T)):
        s = tl.cast(c, tl.int64) * BLOCK_T + j
        m = s < n
        if REVERSE:
            t = n - 1 - s
        else:
            t = s
        x = tl.load(bb + t * sbt, mask=m, other=0).to(ACC)
        if HAS_A:
            a = tl.load(ab + t * sat, mask=m, other=1).to(ACC)
        else:
            a = tl.full((BLOCK_T,), 1, ACC) * a_s
        # the state each restarting step reads: the carry (initial in the first chunk)
        # at the chunk's head, reset_value at resets; `known` where it is not the identity.
        # (A scalar broadcast by the ops below: adding zeros would turn -0.0 into 0.0.)
        if HAS_INIT:
            state = tl.where(c == 0, init, carry)
            known = head
        else:
            state = carry
            known = head & (c > 0)
        restart = head
        if HAS_RESET:
            rst = tl.load(rb + t * srt, mask=m, other=0) != 0
            restart = head | rst
            if HAS_RVAL:
                state = tl.where(rst, rval, state)
                known = known | rst
            else:
                known = known & ~rst
        v = tl.where(known, _step(state, a, x, KIND), x)
        if KIND == 0:
            _, _, h = tl.associative_scan((restart, a, v), 0, _combine_linear)
        else:
            _, h = tl.associative_scan((restart, v), 0, _combine_log)
        tl.store(ob + t * sot, h.to(out_ptr.dtype.element_ty), mask=m)
        carry = _last(h, j == tl.minimum(n - tl.cast(c, tl.int64) * BLOCK_T, BLOCK_T) - 1, BITS)


@triton.jit
def _lanes_kernel(
    out_ptr, b_ptr, a_ptr, i_ptr, v_ptr, r_ptr,
    n, n_series, n1, n2,
    so0, so1, so2, sot,
    sb0, sb1, sb2, sbt,
    sa0, sa1, sa2, sat,
    si0, si1, si2,
    sv0, sv1, sv2,
    sr0, sr1, sr2, srt,
    KIND: tl.constexpr, HAS_A: tl.constexpr, HAS_INIT: tl.constexpr,
    HAS_RVAL: tl.constexpr, HAS_RESET: tl.constexpr, REVERSE: tl.constexpr,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr,
):
    lane = tl.program_id(0).to(tl.int64) * BLOCK_C + tl.arange(0, BLOCK_C)
    lm = lane < n_series
    ob = out_ptr + _series(lane, n1, n2, so0, so1, so2)
    bb = b_ptr + _series(lane, n1, n2, sb0, sb1, sb2)
    if HAS_A:
        ab = a_ptr + _series(lane, n1, n2, sa0, sa1, sa2)
    else:
        a_s = tl.load(a_ptr).to(ACC)
    if HAS_RESET:
        rb = r_ptr + _series(lane, n1, n2, sr0, sr1, sr2)
    if HAS_RVAL:
        rval = tl.load(v_ptr + _series(lane, n1, n2, sv0, sv1, sv2), mask=lm, other=0).to(ACC)
    # step 0 in scan order, from initial (or the identity)
    if REVERSE:
        t = tl.cast(n - 1, tl.int64)
    else:
        t = tl.cast(0, tl.int64)
    x = tl.load(bb + t * sbt, mask=lm, other=0).to(ACC)
    if HAS_A:
        a = tl.load(ab + t * sat, mask=lm, other=1).to(ACC)
    else:
        a = a_s
    if HAS_INIT:
        init = tl.load(i_ptr + _series(lane, n1, n2, si0, si1, si2), mask=lm, other=0).to(ACC)
        h = _step(init, a, x, KIND)
    else:
        h = x
    if HAS_RESET:
        rst = tl.load(rb + t * srt, mask=lm, other=0) != 0
        if HAS_RVAL:
            h = tl.where(rst, _step(rval, a, x, KIND), h)
        else:
            h = tl.where(rst, x, h)
    tl.store(ob + t * sot, h.to(out_ptr.dtype.element_ty), mask=lm)
    for s in range(1, n):
        if REVERSE:
            t = tl.cast(n - 1 - s, tl.int64)
        else:
            t = tl.cast(s, tl.int64)
        x = tl.load(bb + t * sbt, mask=lm, other=0).to(ACC)
        if HAS_A:
            a = tl.load(ab + t * sat, mask=lm, other=1).to(ACC)
        else:
            a = a_s
        h_new = _step(h, a, x, KIND)
        if HAS_RESET:
            rst = tl.load(rb + t * srt, mask=lm, other=0) != 0
            if HAS_RVAL:
                h_new = tl.where(rst, _step(rval, a, x, KIND), h_new)
            else:
                h_new = tl.where(rst, x, h_new)
        h = h_new
        tl.store(ob + t * sot, h.to(out_ptr.dtype.element_ty), mask=lm)


# ------------------------------------------------------------------ host side
def _series_dims(
    shape: tuple[int, ...], dim: int, strides: list[tuple[int, ...] | None]
) -> tuple[list[int], list[int], list[list[int]]]:
    """The series dims: their order (by the output's strides, ``strides[0]``, largest
    first; length-1 dims dropped), then, neighbours merged where every operand allows,
    their sizes and per-operand strides (zeros for a None operand)."""
    dims = [d for d in range(len(shape)) if d != dim and shape[d] != 1]
    out_st = strides[0]
    assert out_st is not None
    dims.sort(key=lambda d: -out_st[d])  # stable: equal strides keep their order
    sizes: list[int] = []
    st: list[list[int]] = [[] for _ in strides]
    for d in dims:
        if sizes and all(
            s is None or st[k][-1] == s[d] * shape[d] for k, s in enumerate(strides)
        ):
            sizes[-1] *= shape[d]
            for k, s in enumerate(strides):
                if s is not None:
                    st[k][-1] = s[d]
            continue
        sizes.append(shape[d])
        for k, s in enumerate(strides):
            st[k].append(0 if s is None else s[d])
    return dims, sizes, st


@contextmanager
def _quiet(device: torch.device) -> Iterator[None]:
    """Launch on ``device``; the interpreter runs the kernels in NumPy, whose warnings
    (inf - inf in a branch ``where`` discards) are not the kernels'."""
    if device.type == "cuda":
        with torch.cuda.device(device):
            yield
    else:
        with np.errstate(all="ignore"):
            yield


def kernel_for(out: torch.Tensor, dim: int) -> str:
    """The kernel a scan into ``out`` along ``dim`` runs: ``"lanes"`` where a series dim
    is the output's fastest axis and there are at least :data:`LANES_MIN` series,
    otherwise ``"time"`` (also for few long series, which lanes would leave idle)."""
    dim = _norm_dim(dim, out.ndim)
    n = out.shape[dim] if out.ndim else 1
    n_series = out.numel() // max(n, 1)
    inner = min((out.stride(d) for d in range(out.ndim) if d != dim and out.shape[d] > 1),
                default=None)
    if n > 1 and inner is not None and inner < out.stride(dim) and n_series >= LANES_MIN:
        return "lanes"
    return "time"


def _scan(
    kind: int,
    out: torch.Tensor,
    b: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    init: torch.Tensor | None,
    rval: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    kernel: str | None,
    block: int | None,
) -> None:
    """Scan into ``out`` (any strided view): ``kind`` 0 linear, 1 log space."""
    if out.numel() == 0:
        return
    ops: list[torch.Tensor | None] = [out, b, a, init, rval, reset]
    shape = tuple(out.shape)
    strides = [None if t is None else tuple(t.stride()) for t in ops]
    order, sizes, st = _series_dims(shape, dim, strides)
    if len(sizes) > 3:
        # rare: a layout that does not merge into three series dims; loop over the
        # outermost (every operand has the full length there: only dim is 1 in states)
        lead = order[0]
        for i in range(shape[lead]):
            o, bb, aa, ii, vv, rr = (None if t is None else t.select(lead, i) for t in ops)
            assert o is not None and bb is not None
            _scan(kind, o, bb, aa, a_scalar, ii, vv, rr, dim - (lead < dim), reverse,
                  kernel, block)
        return
    pad = 3 - len(sizes)
    sizes = [1] * pad + sizes
    st = [[0] * pad + s for s in st]
    n = shape[dim]
    n_series = sizes[0] * sizes[1] * sizes[2]
    acc = _ACC[out.dtype]
    a_ptr: torch.Tensor
    if a is None:
        a_ptr = torch.full((1,), a_scalar, dtype=_ACC_TORCH[acc], device=out.device)
    else:
        a_ptr = a
    time_st = [0 if t is None else t.stride(dim) for t in ops]
    kernel = kernel or kernel_for(out, dim)
    args = (
        out, b, a_ptr, out if init is None else init, out if rval is None else rval,
        out if reset is None else reset,
        n,
    )
    strides_args = (
        st[0][0], st[0][1], st[0][2], time_st[0],
        st[1][0], st[1][1], st[1][2], time_st[1],
        st[2][0], st[2][1], st[2][2], time_st[2],
        st[3][0], st[3][1], st[3][2],
        st[4][0], st[4][1], st[4][2],
        st[5][0], st[5][1], st[5][2], time_st[5],
    )
    flags = dict(
        KIND=kind, HAS_A=a is not None, HAS_INIT=init is not None,
        HAS_RVAL=rval is not None, HAS_RESET=reset is not None, REVERSE=bool(reverse),
        ACC=acc,
    )
    with _quiet(out.device):
        if kernel == "time":
            block_t = block or min(BLOCK_T_MAX, max(16, triton.next_power_of_2(n)))
            _time_kernel[(n_series,)](
                *args, sizes[1], sizes[2], *strides_args, **flags, BITS=_BITS[acc],
                BLOCK_T=block_t, num_warps=4 if block_t <= 512 else 8, **_OPTIONS,
            )
        elif kernel == "lanes":
            block_c = block or min(BLOCK_C_MAX, max(16, triton.next_power_of_2(n_series)))
            _lanes_kernel[(triton.cdiv(n_series, block_c),)](
                *args, n_series, sizes[1], sizes[2], *strides_args, **flags,
                BLOCK_C=block_c, num_warps=4, **_OPTIONS,
            )
        else:
            raise ValueError(f"kernel must be 'time', 'lanes' or None, got {kernel!r}")


def _on_host(op: str, out: torch.Tensor, *args: Any) -> None:
    """Dtypes Triton cannot hold (complex): the CPU custom op on host copies
    (``torch.ops.scanwise`` is registered: only :mod:`.torch_ops` calls this module)."""

    host = [x.cpu() if isinstance(x, torch.Tensor) else x for x in args]
    out.copy_(getattr(torch.ops.scanwise, op)(*host))


def _norm_dim(dim: int, ndim: int) -> int:
    return dim % ndim if ndim else 0


def linear(
    out: torch.Tensor,
    b: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    initial: torch.Tensor | None,
    reset_value: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    *,
    kernel: str | None = None,
    block: int | None = None,
) -> None:
    """``h[t] = a[t] * h[t-1] + b[t]`` (``a_scalar`` where ``a`` is None) into ``out``.

    ``kernel`` forces ``"time"`` or ``"lanes"`` and ``block`` the block size (``BLOCK_T``
    or ``BLOCK_C``, a power of two); None chooses by layout (tests and benchmarks force
    them)."""
    if out.dtype not in _ACC:
        _on_host("linear_scan", out, b, a, a_scalar, initial, reset_value, reset, dim, reverse)
        return
    if out.ndim == 0:
        out, b = out.unsqueeze(0), b.unsqueeze(0)
        a = None if a is None else a.unsqueeze(0)
        initial = None if initial is None else initial.unsqueeze(0)
        reset_value = None if reset_value is None else reset_value.unsqueeze(0)
        reset = None if reset is None else reset.unsqueeze(0)
    dim = _norm_dim(dim, out.ndim)
    if out.dtype == torch.int64:
        a_scalar = int(a_scalar)
    _scan(0, out, b, a, a_scalar, initial, reset_value, reset, dim, reverse, kernel, block)


def adjoint(
    out: torch.Tensor,
    g: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    *,
    kernel: str | None = None,
    block: int | None = None,
) -> None:
    """``lam[t] = g[t] + a[t+1] * lam[t+1]`` in scan order into ``out``; a reset at
    ``t+1`` cuts the chain (``lam[t] = g[t]``).

    As the CPU op: the scan's last step is ``g``; the others are a linear scan of ``g``
    the other way, from it, over views of the gates and resets shifted by one step."""
    if out.dtype not in _ACC:
        _on_host("linear_adjoint", out, g, a, a_scalar, reset, dim, reverse)
        return
    if out.ndim == 0:
        out.copy_(g)
        return
    dim = _norm_dim(dim, out.ndim)
    n = g.shape[dim]
    if n == 0:
        return
    end = 0 if reverse else n - 1
    out.narrow(dim, end, 1).copy_(g.narrow(dim, end, 1))
    if n == 1:
        return
    lo, hi = (1, 0) if reverse else (0, 1)
    linear(
        out.narrow(dim, lo, n - 1), g.narrow(dim, lo, n - 1),
        None if a is None else a.narrow(dim, hi, n - 1), a_scalar, g.narrow(dim, end, 1),
        None, None if reset is None else reset.narrow(dim, hi, n - 1), dim, not reverse,
        kernel=kernel, block=block,
    )


def logcumsumexp(
    out: torch.Tensor,
    x: torch.Tensor,
    initial: torch.Tensor | None,
    reset_value: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    *,
    kernel: str | None = None,
    block: int | None = None,
) -> None:
    """``h[t] = logaddexp(h[t-1], x[t])`` into ``out`` (the identity is ``-inf``)."""
    if out.dtype not in _ACC or out.dtype == torch.int64:
        _on_host("logcumsumexp", out, x, initial, reset_value, reset, dim, reverse)
        return
    if out.ndim == 0:
        out, x = out.unsqueeze(0), x.unsqueeze(0)
        initial = None if initial is None else initial.unsqueeze(0)
        reset_value = None if reset_value is None else reset_value.unsqueeze(0)
        reset = None if reset is None else reset.unsqueeze(0)
    dim = _norm_dim(dim, out.ndim)
    _scan(1, out, x, None, 0.0, initial, reset_value, reset, dim, reverse, kernel, block)
