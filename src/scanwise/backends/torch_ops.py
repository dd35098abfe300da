"""``torch.library`` custom ops of the linear family: ``torch.ops.scanwise.*``.

Three ops, on canonical operands (every tensor already broadcast to the scan shape,
states with length 1 along ``dim``, ``reset`` a bool tensor; the public wrappers in
:mod:`scanwise.backends.torch` validate and prepare them):

``linear_scan(b, a, a_scalar, initial, reset_value, reset, dim, reverse)``
    ``h[t] = a[t] * h[t-1] + b[t]`` (``a_scalar`` where ``a`` is None), the start and
    reset rule of :mod:`scanwise._kernels.scans.linear`.  ``cumsum`` is ``a = 1``,
    ``cumprod`` is ``a = x, b = -0.0``.
``linear_adjoint(g, a, a_scalar, reset, dim, reverse)``
    The backward scan ``lam[t] = g[t] + a[t+1] * lam[t+1]`` (in scan order; a reset at
    ``t+1`` cuts the chain): the same kernels, run the other way over the gates shifted
    by one step.
``logcumsumexp(x, initial, reset_value, reset, dim, reverse)``
    ``h[t] = logaddexp(h[t-1], x[t])``.

CPU tensors run the numba kernels of :mod:`scanwise._dispatch` on NumPy views of the
tensors' memory (no copy for float32/float64, any strides); float16/bfloat16 are computed
in float32.  CUDA tensors run the Triton kernels of
:mod:`scanwise.backends.triton_linear` (without Triton: a round trip through host
memory).  Every op has a fake kernel (``torch.compile``, meta shapes) and
``linear_scan``/``logcumsumexp`` have autograd formulas (for ``b``, ``a``, ``initial``
and ``reset_value``; ``reset`` is not differentiable):

* linear: ``db = lam``, ``da[t] = lam[t] * s[t]`` where ``s[t]`` is the state step
  ``t`` read (``h[t-1]``, ``initial``, ``reset_value``, or 0 where ``a`` was not
  applied), ``d initial = a[0] * lam[0]``, ``d reset_value = sum over resets of
  a[t] * lam[t]`` (complex: the conjugates, as torch);
* log space: the gates are ``c[t] = exp(s[t] - h[t])`` and ``dx[t] = lam[t] *
  exp(x[t] - h[t])``, both in [0, 1], so nothing overflows.  Where a step's state and
  input are both ``-inf`` (so is its output) the gradient goes to the input only, as
  if the state were the identity: masked (``-inf``) entries get finite gradients
  where ``torch.logcumsumexp`` gives NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .. import _dispatch

_LINEAR = (
    "(Tensor b, Tensor? a, float a_scalar, Tensor? initial, Tensor? reset_value, "
    "Tensor? reset, int dim, bool reverse) -> Tensor"
)
_ADJOINT = "(Tensor g, Tensor? a, float a_scalar, Tensor? reset, int dim, bool reverse) -> Tensor"
_LOG = (
    "(Tensor x, Tensor? initial, Tensor? reset_value, Tensor? reset, int dim, "
    "bool reverse) -> Tensor"
)

# dtypes the numba kernels are compiled for; float16/bfloat16 are computed in float32
_KERNEL_DTYPES = {
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.complex64: np.dtype(np.complex64),
    torch.complex128: np.dtype(np.complex128),
    torch.int64: np.dtype(np.int64),
}


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a scan of ``dtype`` is accumulated in."""
    if dtype in _KERNEL_DTYPES:
        return dtype
    if dtype in (torch.float16, torch.bfloat16):
        return torch.float32
    raise TypeError(f"scanwise's kernels do not take {dtype} tensors")


def host_empty_like(t: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``torch.empty_like(t, dtype=dtype)`` for a CPU tensor, its memory from NumPy's
    allocator (same shape and strides).

    torch's CPU allocator hands a large block back to the system on free and faults it
    in anew on the next call, which cost more than the scan itself; NumPy's heap keeps it
    mapped (docs/design.md).  Other devices and dtypes NumPy lacks take torch's
    allocator.
    """
    dtype = t.dtype if dtype is None else dtype
    if t.device.type != "cpu" or dtype not in _KERNEL_DTYPES or t.numel() == 0:
        return torch.empty_like(t, dtype=dtype)
    strides = torch.empty_like(t, dtype=dtype, device="meta").stride()
    size = 1 + sum((n - 1) * st for n, st in zip(t.shape, strides, strict=True))
    buf = np.empty(size, dtype=_KERNEL_DTYPES[dtype])
    # strided on the NumPy side: a torch ``as_strided`` would make the op's output an
    # autograd view, which refuses in-place changes (``y.add_(1)``) when grad is on
    view = np.lib.stride_tricks.as_strided(
        buf, t.shape, tuple(st * buf.itemsize for st in strides), writeable=True
    )
    return torch.from_numpy(view)


def _view(t: torch.Tensor, readonly: bool = True) -> np.ndarray:
    """A NumPy view of a CPU tensor's memory (any strides, never a copy).

    Read-only operands are typed read-only, as the NumPy path's broadcast operands are,
    so both paths share the kernels' compiled signatures."""
    arr = t.detach().resolve_conj().resolve_neg().numpy()
    return np.broadcast_to(arr, arr.shape) if readonly else arr


def _run_cpu(
    kind: str,
    out: torch.Tensor,
    b: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    init: torch.Tensor | None,
    rval: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
) -> None:
    """Scan into ``out`` (a tensor or a view of one) with the NumPy path's kernels."""
    cdt = compute_dtype(out.dtype)
    work = out if out.dtype == cdt else host_empty_like(out, cdt)

    def conv(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else _view(t.to(cdt))

    # a scalar ``a`` keeps ``b`` writeable-typed (cumsum's signature); with an array ``a``
    # both are read-only, as linear_recurrence's broadcast operands
    bn = _view(b.to(cdt), readonly=a is not None)
    an: Any = a_scalar if a is None else conv(a)
    _dispatch.run(
        kind, b=bn, a=an, init=conv(init), rval=conv(rval),
        reset=None if reset is None else _view(reset), axis=dim, reverse=reverse,
        out=_view(work, readonly=False), result=_KERNEL_DTYPES[cdt],
    )
    if work is not out:
        out.copy_(work)


def _on_host(fn: Any, *args: Any) -> torch.Tensor:
    """Run a CPU implementation on host copies of ``args``; the result goes back to the
    device of the first tensor (CUDA without Triton)."""
    device = next(a.device for a in args if isinstance(a, torch.Tensor))
    host = [a.cpu() if isinstance(a, torch.Tensor) else a for a in args]
    return fn(*host).to(device)


def _template(b: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
    """The operand whose layout the output copies: ``b``, unless ``b`` is a broadcast
    constant (cumprod's ``-0.0``) and ``a`` is the real data."""
    return a if a is not None and 0 in b.stride() and b.numel() > 1 else b


def _triton() -> Any:
    """:mod:`scanwise.backends.triton_linear`, or None where Triton cannot run."""
    try:
        from . import triton_linear
    except ImportError:  # no triton installed
        return None
    return triton_linear if triton_linear.available() else None


def _register(op: Any, alloc: Any, triton_fn: str) -> None:
    """The fake kernel (``alloc``: an empty output like the real one's) and the CUDA
    kernel of ``op``: Triton's ``triton_fn`` writing into that output, or without Triton
    the CPU kernel on host copies."""
    op.register_fake(alloc)

    def cuda(*args: Any) -> torch.Tensor:
        tl = _triton()
        if tl is None:
            return _on_host(op, *args)
        out = alloc(*args)
        getattr(tl, triton_fn)(out, *args)
        return out

    op.register_kernel("cuda")(cuda)


# ------------------------------------------------------------------ linear_scan
@torch.library.custom_op("scanwise::linear_scan", mutates_args=(), schema=_LINEAR)
def linear_scan(
    b: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    initial: torch.Tensor | None,
    reset_value: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
) -> torch.Tensor:
    out = host_empty_like(_template(b, a), b.dtype)
    _run_cpu("linear", out, b, a, a_scalar, initial, reset_value, reset, dim, reverse)
    return out


_register(linear_scan, lambda b, a, *_: torch.empty_like(_template(b, a), dtype=b.dtype), "linear")


# ------------------------------------------------------------------ linear_adjoint
@torch.library.custom_op("scanwise::linear_adjoint", mutates_args=(), schema=_ADJOINT)
def linear_adjoint(
    g: torch.Tensor,
    a: torch.Tensor | None,
    a_scalar: float,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
) -> torch.Tensor:
    lam = host_empty_like(g)
    n = g.shape[dim]
    if n == 0:
        return lam
    # the adjoint's first step is the forward's last: lam there is g; the other steps are
    # a scan of g from it, over the gate (and reset) of the step after each in scan order
    end = 0 if reverse else n - 1
    lam.narrow(dim, end, 1).copy_(g.narrow(dim, end, 1))
    if n > 1:
        lo, hi = (1, 0) if reverse else (0, 1)
        _run_cpu(
            "linear", lam.narrow(dim, lo, n - 1), g.narrow(dim, lo, n - 1),
            None if a is None else a.narrow(dim, hi, n - 1), a_scalar, g.narrow(dim, end, 1),
            None, None if reset is None else reset.narrow(dim, hi, n - 1), dim, not reverse,
        )
    return lam


_register(linear_adjoint, lambda g, *_: torch.empty_like(g), "adjoint")


# ------------------------------------------------------------------ logcumsumexp
@torch.library.custom_op("scanwise::logcumsumexp", mutates_args=(), schema=_LOG)
def logcumsumexp(
    x: torch.Tensor,
    initial: torch.Tensor | None,
    reset_value: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
) -> torch.Tensor:
    out = host_empty_like(x)
    _run_cpu("logaddexp", out, x, None, 0.0, initial, reset_value, reset, dim, reverse)
    return out


_register(logcumsumexp, lambda x, *_: torch.empty_like(x), "logcumsumexp")


# ------------------------------------------------------------------ autograd
def _first(t: torch.Tensor, dim: int, reverse: bool) -> torch.Tensor:
    """The first step in scan order, keeping ``dim``."""
    return t.narrow(dim, t.shape[dim] - 1 if reverse else 0, 1)


def _state_in(
    h: torch.Tensor,
    init: torch.Tensor | None,
    rval: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    identity: float,
) -> torch.Tensor:
    """``s[t]``, the state step ``t`` read: ``h`` one step back in scan order, ``initial``
    at the first step and ``reset_value`` at resets (``identity`` where None)."""
    n = h.shape[dim]
    first = init if init is not None else torch.full_like(_first(h, dim, reverse), identity)
    first = first.to(h.dtype)
    if reverse:
        s = torch.cat([h.narrow(dim, 1, n - 1), first], dim)
    else:
        s = torch.cat([first, h.narrow(dim, 0, n - 1)], dim)
    if reset is not None:
        restart = rval.to(h.dtype) if rval is not None else torch.full_like(first, identity)
        s = torch.where(reset, restart, s)
    return s


def _state_grads(
    gated: torch.Tensor,
    init: torch.Tensor | None,
    rval: torch.Tensor | None,
    reset: torch.Tensor | None,
    dim: int,
    reverse: bool,
    need_init: bool,
    need_rval: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The gradients of ``initial`` and ``reset_value`` from ``gated = lam * gate``: the
    first step's (unless it resets) and the sum over the reset steps."""
    dinit = drval = None
    if init is not None and need_init:
        dinit = _first(gated, dim, reverse)
        if reset is not None:
            dinit = torch.where(_first(reset, dim, reverse), torch.zeros_like(dinit), dinit)
        dinit = dinit.to(init.dtype)
    if rval is not None and need_rval:
        if reset is None:
            drval = torch.zeros_like(rval)
        else:
            drval = torch.where(reset, gated, torch.zeros_like(gated)).sum(dim, keepdim=True)
        drval = drval.to(rval.dtype)
    return dinit, drval


def _setup(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
    # the tensor slots (optional ones may be None), then the output; the rest are scalars
    ctx.save_for_backward(*(x for x in inputs if _is_slot(x)), output)
    ctx.scalars = tuple(x for x in inputs if not _is_slot(x))


def _is_slot(x: Any) -> bool:
    return x is None or isinstance(x, torch.Tensor)


def _linear_backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
    b, a, init, rval, reset, h = ctx.saved_tensors
    a_scalar, dim, reverse = ctx.scalars
    need = ctx.needs_input_grad
    if h.shape[dim] == 0:
        return tuple(None if x is None else torch.zeros_like(x) for x in
                     (b, a, None, init, rval, None, None, None))
    a_conj = None if a is None else a.conj()
    lam = torch.ops.scanwise.linear_adjoint(g, a_conj, a_scalar, reset, dim, reverse)
    db = lam if need[0] else None
    da = None
    if a is not None and need[1]:
        da = lam * _state_in(h, init, rval, reset, dim, reverse, 0.0).conj()
    dinit = drval = None
    if (init is not None and need[3]) or (rval is not None and need[4]):
        # a tensor of the input's size: only when a state takes a gradient (otherwise
        # cumsum's backward spent half its time on ``lam * 1``)
        gated = lam * a_conj if a_conj is not None else lam * a_scalar
        dinit, drval = _state_grads(gated, init, rval, reset, dim, reverse, need[3], need[4])
    return db, da, None, dinit, drval, None, None, None


def _log_backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
    x, init, rval, reset, h = ctx.saved_tensors
    dim, reverse = ctx.scalars
    need = ctx.needs_input_grad
    if h.shape[dim] == 0:
        return tuple(None if t is None else torch.zeros_like(t) for t in
                     (x, init, rval, None, None, None))
    s = _state_in(h, init, rval, reset, dim, reverse, -math.inf)
    empty = h == -math.inf  # state and input both -inf: the input takes the gradient
    gate = torch.where(empty, 0.0, torch.exp(s - h))
    lam = torch.ops.scanwise.linear_adjoint(g, gate, 0.0, reset, dim, reverse)
    dx = None
    if need[0]:
        dx = (lam * torch.where(empty, 1.0, torch.exp(x.to(h.dtype) - h))).to(x.dtype)
    dinit = drval = None
    if (init is not None and need[1]) or (rval is not None and need[2]):
        dinit, drval = _state_grads(lam * gate, init, rval, reset, dim, reverse, need[1],
                                    need[2])
    return dx, dinit, drval, None, None, None


linear_scan.register_autograd(_linear_backward, setup_context=_setup)
logcumsumexp.register_autograd(_log_backward, setup_context=_setup)
