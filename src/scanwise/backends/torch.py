"""PyTorch tensors in, tensors out: the tensor versions of the public ops.

:func:`accepts_tensors` decorates each public function: when ``torch`` is loaded and a
positional argument, ``reset``, ``initial``, ``reset_value`` or ``times`` is a
``torch.Tensor``, the call is routed here, once, at the entry (torch is never imported
by scanwise itself: a tensor can only exist once the user imported torch).

Rules for tensor calls (the NumPy rules otherwise):

* the result is a tensor on the input's device; ``dim=`` is accepted as torch spells
  ``axis``;
* dtypes follow torch's promotion (Python numbers and 0-d tensors are weak):
  ``cumsum``/``cumprod`` keep ``torch.cumsum``'s integer results (int64), the
  recurrences and ``logcumsumexp`` give the default float dtype for integer and bool
  inputs; float16/bfloat16 are accumulated in float32 and returned in their dtype;
* the scans are differentiable (``torch.ops.scanwise.*`` custom ops, see
  :mod:`scanwise.backends.torch_ops`) in every tensor argument but ``reset``, run
  under ``torch.compile(fullgraph=True)`` without a graph break, and never copy a CPU
  float32/float64 input;
* value checks (a ``reset`` of 0/1 numbers, a finite ``discount``) run eagerly; under
  ``torch.compile`` ``reset`` must be a bool tensor and ``discount`` is not inspected;
* ``out=`` takes a tensor of the result's shape and device whose dtype can hold the
  result (torch's ``out=``), written after the scan (so it may be an input); it does not
  support autograd;
* EWM statistics accept tensors and are computed on the host (CUDA tensors make a
  round trip through host memory) and are not differentiable: a tensor that requires
  grad is refused with a ``TypeError``;
* the RL estimators take tensors and compute on the host (:func:`_host_rl`), except
  ``gae``, ``lambda_returns`` and ``discounted_returns`` when a tensor argument
  requires grad or is on a CUDA device, or under ``torch.compile``: then they are
  torch ops around the differentiable linear scan on the tensors' device
  (:func:`_gae`, :func:`_discounted_returns`), with the NumPy path's values;
  ``vtrace``, ``n_step_returns``, ``off_policy_returns`` and the traces refuse a
  tensor that requires grad with a ``TypeError``.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _validate as v

# keywords that may carry a tensor (``out`` alone does not make a call a tensor call)
_KEYWORDS = ("reset", "initial", "reset_value", "times")
_NUMBER = (bool, int, float, complex)


def accepts_tensors(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: route a call of the public function ``name`` with a tensor argument to
    its tensor version here; any other call goes to the function unchanged."""
    route = _ROUTES[name]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            torch = sys.modules.get("torch")
            if torch is not None and _has_tensor(torch.Tensor, args, kwargs):
                return route(fn, *args, **kwargs)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


def adapt(fn: Callable[..., Any], op: str, **_options: Any) -> Callable[..., Any]:
    """This adapter's entry (:mod:`scanwise.backends`): the ops with a tensor version
    here (the core scans, differentiable; the EWM statistics) and the RL estimators
    (computed on the host, see :func:`_host_rl`; ``gae``, ``lambda_returns`` and
    ``discounted_returns`` by torch ops where a tensor requires grad, see
    :func:`_differentiable_rl`)."""
    if op in _ROUTES:
        return accepts_tensors(op)(fn)
    if op in _HOST_RL:
        host = _host_rl(fn, *_HOST_RL[op])
        if op in _GRAD_RL:
            return _differentiable_rl(fn, host, _GRAD_RL[op])
        return host
    return fn


#: RL op -> (the arguments whose first tensor the results are like, the arguments
#: whose tensor dtypes promote to the result dtype)
_REWARDS = ("rewards", "values", "next_values")
_HOST_RL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gae": (_REWARDS, _REWARDS),
    "lambda_returns": (_REWARDS, _REWARDS),
    "discounted_returns": (("rewards",), ("rewards", "bootstrap")),
    "vtrace": ((*_REWARDS, "log_rhos"), (*_REWARDS, "log_rhos")),
    "n_step_returns": (("rewards", "next_values"), ("rewards", "next_values")),
    "off_policy_returns": (("rewards", "next_values", "next_q_taken", "traces"),
                           ("rewards", "next_values", "next_q_taken", "traces")),
    "retrace_traces": (("next_log_rhos",), ("next_log_rhos",)),
    "q_lambda_traces": (("next_log_rhos",), ("next_log_rhos",)),
    "tree_backup_traces": (("next_pi_taken",), ("next_pi_taken",)),
}


def _host_rl(fn: Callable[..., Any], like: tuple[str, ...],
             promote: tuple[str, ...]) -> Callable[..., Any]:
    """``fn`` taking tensors: every tensor argument as a NumPy array on the host
    (float16/bfloat16 as float32; meta, sparse, quantized tensors and tensors that
    require grad refused by name), the NumPy implementation, the results as tensors on
    the device of the first tensor among ``like``, in torch's promotion of the tensors
    among ``promote`` (integers give the default float dtype, never a truncation)."""
    import inspect

    from . import tensors

    names = [p.name for p in inspect.signature(fn).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is None or not (any(isinstance(a, torch.Tensor) for a in args)
                                 or any(isinstance(a, torch.Tensor) for a in kwargs.values())):
            return fn(*args, **kwargs)
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        for n, value in given.items():
            if isinstance(value, torch.Tensor) and value.requires_grad:
                raise TypeError(
                    f"{n} requires grad, and {fn.__name__} is computed on the host without "
                    "gradients (of the RL estimators, gae, lambda_returns and "
                    f"discounted_returns are differentiable): pass {n}.detach()"
                )
        template = next((given[n] for n in like if isinstance(given.get(n), torch.Tensor)),
                        None)
        if template is not None and given.get("out") is not None:
            raise TypeError("out= takes NumPy arrays; it is not supported with torch tensors")
        result = fn(**{n: tensors.to_numpy(value, n) for n, value in given.items()})
        if template is None:
            return result
        dtype = tensors.result_dtype(*(given.get(n) for n in promote))

        def back(r: Any) -> Any:
            return tensors.like(r, template, dtype)

        return tuple(map(back, result)) if isinstance(result, tuple) else back(result)

    return wrapper


def _differentiable_rl(fn: Callable[..., Any], host: Callable[..., Any],
                       impl: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` whose calls with a tensor that requires grad, a CUDA tensor, or any call
    under ``torch.compile`` (:func:`_wants_torch`) run ``impl``, its version in torch
    ops and the differentiable linear scan (:func:`_gae`, :func:`_discounted_returns`);
    every other call (CPU tensors without grad) goes to ``host`` (:func:`_host_rl`: the
    fused NumPy kernels, one pass, faster)."""
    import inspect

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None and _wants_torch(torch, args, kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return impl(**bound.arguments)
        return host(*args, **kwargs)

    return wrapper


def _wants_torch(torch: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call runs in torch ops: a tensor requires grad, lives on a CUDA device
    (the scan then runs there, no round trip through host memory) or is being traced
    by ``torch.compile`` (the host path cannot run on fake tensors)."""
    tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
    if torch.compiler.is_compiling():
        return bool(tensors)
    return any(t.requires_grad or t.device.type == "cuda" for t in tensors)


def _has_tensor(tensor: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return any(isinstance(a, tensor) for a in args) or any(
        isinstance(kwargs.get(k), tensor) for k in _KEYWORDS
    )


def _ops() -> Any:
    """``torch.ops.scanwise``, registered on first use (under ``torch.compile`` the import
    runs at trace time, outside the graph)."""
    from . import torch_ops  # noqa: F401

    return sys.modules["torch"].ops.scanwise


class _Call:
    """The tensors of one call: the device they share and conversions onto it."""

    def __init__(self, named: list[tuple[str, Any]]) -> None:
        torch = sys.modules["torch"]
        self.torch = torch
        tensors = [(n, t) for n, t in named if isinstance(t, torch.Tensor)]
        # a 0-d CPU tensor beside CUDA tensors is a number, as in torch's arithmetic
        main = [(n, t) for n, t in tensors if t.ndim or t.device.type != "cpu"] or tensors
        self.first, lead = main[0]
        self.device = lead.device
        self.compiling = torch.compiler.is_compiling()

    def tensor(self, value: Any, name: str) -> Any:
        """``value`` as a tensor on the call's device (NumPy arrays, lists and numbers
        are converted; tensors are checked, never copied)."""
        torch = self.torch
        if isinstance(value, torch.Tensor):
            if value.device.type == "meta" and not self.compiling:
                raise TypeError(f"{name} is a tensor on the 'meta' device, which holds no data")
            if value.layout != torch.strided:
                raise TypeError(
                    f"{name} is a {value.layout} tensor; pass a dense one "
                    f"(e.g. {name}.to_dense())"
                )
            if value.is_quantized:
                raise TypeError(f"{name} is a quantized tensor; pass {name}.dequantize()")
            if value.device != self.device:
                if value.ndim == 0 and value.device.type == "cpu":
                    return value.to(self.device)
                raise ValueError(
                    f"{name} is on {value.device} and {self.first} on {self.device}: pass "
                    "the tensors of one call on one device"
                )
            return value
        if isinstance(value, (np.ndarray, np.generic, list, tuple, *_NUMBER)):
            return torch.as_tensor(v.as_numeric(value, name), device=self.device)
        raise TypeError(
            f"{name} is a {type(value).__name__} and {self.first} a torch Tensor: pass "
            "tensors, NumPy arrays or numbers"
        )


# ------------------------------------------------------------------ argument rules
def _axis(axis: Any, dim: Any, ndim: int, name: str) -> int:
    """:func:`scanwise._validate.scan_axis` (its errors too), in plain Python where the
    axis is valid: NumPy's ``normalize_axis_index`` is a C function that
    ``torch.compile`` cannot trace."""
    if dim is not None:
        axis = _dim_alias(axis, dim)
    if ndim == 1 and axis is None:
        return 0
    if type(axis) is int and -ndim <= axis < ndim:
        return axis + ndim if axis < 0 else axis
    return v.scan_axis(axis, ndim, name)  # the error (or a NumPy integer)


def _fits(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (torch's rule, without a try/except)."""
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target), strict=False))


def _reset(call: _Call, value: Any, shape: tuple[int, ...], ax: int) -> Any:
    """``reset`` as a bool tensor of the scan shape (the step-flag rule of
    :func:`scanwise._validate.step_flags`)."""
    if value is None:
        return None
    torch = call.torch
    r = call.tensor(value, "reset")
    if (len(shape) > 1 or r.ndim != 1) and (r.ndim != len(shape) or r.shape[ax] != shape[ax]):
        raise ValueError(
            f"reset with shape {tuple(r.shape)} does not span the time axis of the input "
            f"(shape {shape}, axis {ax}): flags mark steps, so give reset the input's "
            f"{len(shape)} dimensions with length {shape[ax]} along axis {ax} (other axes "
            "may be 1, e.g. flags[:, None] for one flag per step shared by every series)"
        )
    if r.dtype != torch.bool:
        if r.dtype.is_complex:
            raise TypeError(f"reset must be a boolean tensor, got dtype {r.dtype}")
        if call.compiling:
            raise TypeError(
                f"reset must be a bool tensor under torch.compile (got {r.dtype}): its "
                "values cannot be checked inside a graph; pass reset.bool()"
            )
        if not bool(((r == 0) | (r == 1)).all()):
            raise ValueError("reset must be boolean or contain only 0 and 1")
        r = r != 0
    if not _fits(tuple(r.shape), shape):
        raise ValueError(f"reset with shape {tuple(r.shape)} does not broadcast to {shape}")
    return r.expand(shape)


def _promote(dtype: Any, value: Any) -> Any:
    """torch's promotion of a result ``dtype`` by an operand: Python numbers and 0-d
    tensors only lift the category (int -> float -> complex), as in torch's arithmetic."""
    torch = sys.modules["torch"]
    if value is None or isinstance(value, bool):
        return dtype
    if isinstance(value, torch.Tensor):
        other = value.dtype
        if other == torch.bool:
            return dtype
        if value.ndim == 0 and _category(other) <= _category(dtype):
            return dtype
        if value.ndim == 0:  # a weak operand of a higher category: its default dtype
            other = _default(_category(other), dtype)
        return torch.promote_types(dtype, other)
    if isinstance(value, complex):
        return dtype if dtype.is_complex else _default(2, dtype)
    if isinstance(value, float):
        return dtype if _category(dtype) >= 1 else torch.get_default_dtype()
    if isinstance(value, int):
        return torch.int64 if dtype == torch.bool else dtype
    return dtype


def _category(dtype: Any) -> int:
    return 2 if dtype.is_complex else 1 if dtype.is_floating_point else 0


def _default(category: int, dtype: Any) -> Any:
    """torch's dtype for a weak scalar of ``category`` beside a ``dtype`` tensor."""
    torch = sys.modules["torch"]
    if category == 2:
        if dtype == torch.float64:
            return torch.complex128
        return torch.complex64 if dtype.is_floating_point else _complex_default()
    return torch.get_default_dtype()


def _complex_default() -> Any:
    torch = sys.modules["torch"]
    return torch.complex128 if torch.get_default_dtype() == torch.float64 else torch.complex64


def _floating(dtype: Any) -> Any:
    """A recurrence's dtype: integers and bools become the default float dtype."""
    torch = sys.modules["torch"]
    if dtype.is_floating_point or dtype.is_complex:
        return dtype
    return torch.get_default_dtype()


def _raw_state(call: _Call, value: Any, name: str) -> Any:
    """A state as given: a Python number kept as is (weak), anything else a tensor."""
    if value is None or isinstance(value, _NUMBER):
        if isinstance(value, bool):
            return int(value)
        return value
    return call.tensor(value, name)


def _state(
    call: _Call, value: Any, shape: tuple[int, ...], ax: int, name: str, dtype: Any
) -> Any:
    """A per-series state (the rule of :func:`scanwise._validate.state`) as a ``dtype``
    tensor of the scan shape with length 1 along ``ax`` (a broadcast view)."""
    torch = call.torch
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        value = torch.full((), value, dtype=dtype, device=call.device)
    reduced = shape[:ax] + shape[ax + 1 :]
    t = value
    if t.ndim == len(shape) and t.ndim > 0 and t.shape[ax] == 1:
        t = t.squeeze(ax)
    if not _fits(tuple(t.shape), reduced):
        raise ValueError(
            f"{name} with shape {tuple(value.shape)} does not match the input without axis "
            f"{ax}, shape {reduced}"
        )
    return t.to(dtype).expand(reduced).unsqueeze(ax)


def _finish(call: _Call, result: Any, out: Any) -> Any:
    """Write ``result`` into a user ``out=`` tensor (torch's rules) and return it."""
    if out is None:
        return result
    torch = call.torch
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"out must be a torch.Tensor for tensor input, got {type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape):
        raise ValueError(f"out has shape {tuple(out.shape)}, expected {tuple(result.shape)}")
    if out.device != result.device:
        raise ValueError(f"out is on {out.device}, the result on {result.device}")
    if not torch.can_cast(result.dtype, out.dtype):
        raise TypeError(f"out has dtype {out.dtype}, which cannot hold the result {result.dtype}")
    if torch.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise TypeError(
            "out= does not support automatic differentiation (an input or out requires "
            "grad): drop out=, or call under torch.no_grad()"
        )
    out.copy_(result)
    return out


def _prepend(h: Any, start: Any, ax: int, reverse: bool) -> Any:
    """``include_initial``: the state before the first step, placed before it."""
    torch = sys.modules["torch"]
    return torch.cat([h, start] if reverse else [start, h], ax)


# ------------------------------------------------------------------ the core scans
def _accumulate(
    product: bool,
    x: Any,
    axis: Any = None,
    dim: Any = None,
    dtype: Any = None,
    include_initial: bool = False,
    reverse: bool = False,
    reset: Any = None,
    initial: Any = None,
    reset_value: Any = None,
    out: Any = None,
) -> Any:
    call = _Call([("x", x), ("reset", reset), ("initial", initial), ("reset_value", reset_value)])
    torch = call.torch
    x = call.tensor(x, "x")
    shape = tuple(x.shape)
    ax = _axis(axis, dim, x.ndim, "x")
    rev = v.flag(reverse, "reverse")
    inc = v.flag(include_initial, "include_initial")
    rst = _reset(call, reset, shape, ax)
    init = _raw_state(call, initial, "initial")
    rval = _raw_state(call, reset_value, "reset_value")
    if dtype is not None:
        result = _torch_dtype(dtype)
    else:  # torch.cumsum: bools and integers accumulate in int64
        result = x.dtype if _category(x.dtype) else torch.int64
    for s in (init, rval):
        result = _promote(result, s)
    init = _state(call, init, shape, ax, "initial", result)
    rval = _state(call, rval, shape, ax, "reset_value", result)
    xc = x.to(result)
    ops = _ops()
    keep = shape[:ax] + (1,) + shape[ax + 1 :]
    if product:
        one = torch.ones(keep, dtype=result, device=call.device)
        # h = x * h + (-0.0) is exactly x * h (see scans.cumprod); a reset restarts from 1
        zero = torch.full((), -0.0 if _category(result) else 0, dtype=result, device=call.device)
        h = ops.linear_scan(
            zero.expand(shape), xc, 0.0, one if init is None else init,
            one if rval is None and rst is not None else rval, rst, ax, rev,
        )
        start = one if init is None else init
    else:
        h = ops.linear_scan(xc, None, 1.0, init, rval, rst, ax, rev)
        start = torch.zeros(keep, dtype=result, device=call.device) if init is None else init
    if inc:
        h = _prepend(h, start, ax, rev)
    return _finish(call, h, out)


def _torch_dtype(dtype: Any) -> Any:
    """A user ``dtype=`` for tensors: a torch dtype, or a NumPy spelling of one."""
    torch = sys.modules["torch"]
    if isinstance(dtype, torch.dtype):
        result = dtype
    else:
        np_dtype = v.result_dtype(dtype)
        result = torch.from_numpy(np.zeros(0, dtype=np_dtype)).dtype
    if result == torch.bool:
        raise TypeError("dtype must be a numeric (int, float or complex) dtype, got torch.bool")
    if not (result.is_floating_point or result.is_complex) and result != torch.int64:
        result = torch.int64  # the kernels accumulate integers in int64, as torch.cumsum
    return result


def cumsum(fn: Any, x: Any, /, **kwargs: Any) -> Any:
    """``scanwise.cumsum`` of a tensor (differentiable in ``x``, ``initial``,
    ``reset_value``)."""
    return _accumulate(False, x, **kwargs)


def cumprod(fn: Any, x: Any, /, **kwargs: Any) -> Any:
    """``scanwise.cumprod`` of a tensor; its gradient is exact where ``x`` has zeros (it is
    the recurrence's ``da = lam * h[t-1]``, no division)."""
    return _accumulate(True, x, **kwargs)


def logcumsumexp(
    fn: Any,
    x: Any,
    /,
    *,
    axis: Any = None,
    dim: Any = None,
    reverse: bool = False,
    reset: Any = None,
    initial: Any = None,
    reset_value: Any = None,
    out: Any = None,
) -> Any:
    """``scanwise.logcumsumexp`` of a tensor (differentiable; finite gradients at
    ``-inf`` entries, see :mod:`scanwise.backends.torch_ops`)."""
    call = _Call([("x", x), ("reset", reset), ("initial", initial), ("reset_value", reset_value)])
    x = call.tensor(x, "x")
    shape = tuple(x.shape)
    ax = _axis(axis, dim, x.ndim, "x")
    rev = v.flag(reverse, "reverse")
    rst = _reset(call, reset, shape, ax)
    init = _raw_state(call, initial, "initial")
    rval = _raw_state(call, reset_value, "reset_value")
    for name, value in (("x", x), ("initial", init), ("reset_value", rval)):
        if isinstance(value, complex) or (
            isinstance(value, call.torch.Tensor) and value.dtype.is_complex
        ):
            raise TypeError(f"logcumsumexp needs real input; {name} is complex")
    result = _floating(x.dtype)
    init = _state(call, init, shape, ax, "initial", result)
    rval = _state(call, rval, shape, ax, "reset_value", result)
    h = _ops().logcumsumexp(x.to(result), init, rval, rst, ax, rev)
    return _finish(call, h, out)


def linear_recurrence(
    fn: Any,
    a: Any,
    b: Any,
    /,
    *,
    axis: Any = None,
    dim: Any = None,
    initial: Any = None,
    reverse: bool = False,
    reset: Any = None,
    reset_value: Any = None,
    out: Any = None,
) -> Any:
    """``scanwise.linear_recurrence`` with tensors (differentiable in ``a``, ``b``,
    ``initial`` and ``reset_value``)."""
    call = _Call([("a", a), ("b", b), ("reset", reset), ("initial", initial),
                  ("reset_value", reset_value)])
    a_in = a if isinstance(a, _NUMBER) else call.tensor(a, "a")
    return _recurrence(call, a_in, call.tensor(b, "b"), "a", "b", axis, dim, initial, reverse,
                       reset, reset_value, out, broadcast_both=True)


def discounted_cumsum(
    fn: Any,
    x: Any,
    discount: Any,
    /,
    *,
    axis: Any = None,
    dim: Any = None,
    initial: Any = None,
    reverse: bool = False,
    reset: Any = None,
    reset_value: Any = None,
    out: Any = None,
) -> Any:
    """``scanwise.discounted_cumsum`` with tensors (differentiable in ``x``, a tensor
    ``discount``, ``initial`` and ``reset_value``)."""
    call = _Call([("x", x), ("discount", discount), ("reset", reset), ("initial", initial),
                  ("reset_value", reset_value)])
    torch = call.torch
    if isinstance(discount, bool):
        raise TypeError("discount must be a number, got a bool")
    if isinstance(discount, _NUMBER):
        if not math.isfinite(abs(discount)):
            raise ValueError(f"discount must be finite, got {discount!r}")
        d = discount
    else:
        d = call.tensor(discount, "discount")
        if d.dtype == torch.bool:
            raise TypeError("discount must be numeric, got dtype bool")
        if not call.compiling and not bool(torch.isfinite(d).all()):
            raise ValueError("discount must be finite, got a tensor with NaN or infinity")
    return _recurrence(call, d, call.tensor(x, "x"), "discount", "x", axis, dim, initial,
                       reverse, reset, reset_value, out, broadcast_both=False)


def _recurrence(
    call: _Call,
    a: Any,
    b: Any,
    a_name: str,
    b_name: str,
    axis: Any,
    dim: Any,
    initial: Any,
    reverse: Any,
    reset: Any,
    reset_value: Any,
    out: Any,
    broadcast_both: bool,
) -> Any:
    torch = call.torch
    shape = tuple(b.shape)
    if isinstance(a, torch.Tensor):
        if broadcast_both:
            try:
                shape = tuple(torch.broadcast_shapes(a.shape, b.shape))
            except RuntimeError:
                raise ValueError(
                    f"{a_name} with shape {tuple(a.shape)} and {b_name} with shape "
                    f"{tuple(b.shape)} do not broadcast"
                ) from None
        elif not _fits(tuple(a.shape), shape):
            raise ValueError(
                f"{a_name} with shape {tuple(a.shape)} does not broadcast to the input shape "
                f"{shape}"
            )
    ax = _axis(axis, dim, len(shape), b_name)
    rev = v.flag(reverse, "reverse")
    rst = _reset(call, reset, shape, ax)
    init = _raw_state(call, initial, "initial")
    rval = _raw_state(call, reset_value, "reset_value")
    result = b.dtype
    for operand in (a, init, rval):
        result = _promote(result, operand)
    result = _floating(result)
    init = _state(call, init, shape, ax, "initial", result)
    rval = _state(call, rval, shape, ax, "reset_value", result)
    bc = b.to(result).expand(shape)
    if isinstance(a, torch.Tensor) or isinstance(a, complex):
        ac = torch.as_tensor(a, dtype=result, device=call.device).expand(shape)
        h = _ops().linear_scan(bc, ac, 0.0, init, rval, rst, ax, rev)
    else:
        h = _ops().linear_scan(bc, None, float(a), init, rval, rst, ax, rev)
    return _finish(call, h, out)


# ------------------------------------------------------------------ RL, differentiable
# gae, lambda_returns and discounted_returns as torch ops around the linear scan: the
# NumPy path's argument rules (scanwise.rl, scanwise.rl.args) and semantics
# (scanwise.rl.plan, scanwise._kernels.rl.returns), with every step differentiable in
# rewards, values, next_values, a tensor discount/lam and bootstrap.  A done step is a
# reset of the scan (the carried state is not read: never 0 * NaN), a skipped step
# (valid false) the identity step a = 1, b = 0 whose data is masked out by torch.where.
def _rl_call(given: dict[str, Any], floats: tuple[str, ...], others: tuple[str, ...],
             axis: Any, dim: Any, out: Any = None) -> tuple[_Call, dict[str, Any], int, Any,
                                                            Any]:
    """The checked float operands of an RL call (the shape of ``rewards``), the time
    axis, the result dtype (torch's promotion of the tensors among ``floats``, integers
    giving the default float dtype, as :func:`_host_rl`) and the compute dtype."""
    from . import tensors

    if dim is not None:
        raise ValueError("dim= is for xarray inputs; use axis= for arrays")
    if out is not None:
        raise TypeError("out= takes NumPy arrays; it is not supported with torch tensors")
    call = _Call([(n, given[n]) for n in (*floats, *others)])
    torch = call.torch
    result = tensors.result_dtype(*(given[n] for n in floats))
    r = call.tensor(given["rewards"], "rewards")
    shape = tuple(r.shape)
    ax = _axis(axis, None, r.ndim, "rewards")
    arrays = {"rewards": r}
    for name in floats[1:]:
        if given[name] is None:
            continue
        t = call.tensor(given[name], name)
        if name != "bootstrap" and tuple(t.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)}, expected the shape of "
                             f"rewards {shape}")
        arrays[name] = t
    for name, t in arrays.items():
        if t.dtype.is_complex:
            raise TypeError(f"rewards and values must be real, got dtype {t.dtype} ({name})")
    cdt = torch.float32 if result in (torch.float16, torch.bfloat16) else result
    return call, arrays, ax, result, cdt


def _rl_flags(call: _Call, value: Any, shape: tuple[int, ...], ax: int, name: str) -> Any:
    """A step flag (``terminated``, ``done``, ``valid``): the rule of
    :func:`scanwise._validate.step_flags`, as a bool tensor of the input shape."""
    torch = call.torch
    f = call.tensor(value, name)
    v.spans_time(tuple(f.shape), shape, ax, name)
    if f.dtype != torch.bool:
        if f.dtype.is_complex:
            raise TypeError(f"{name} must be a boolean array, got dtype {f.dtype}")
        if call.compiling:
            raise TypeError(
                f"{name} must be a bool tensor under torch.compile (got {f.dtype}): its "
                f"values cannot be checked inside a graph; pass {name}.bool()"
            )
        if not bool(((f == 0) | (f == 1)).all()):
            raise ValueError(f"{name} must be boolean or contain only 0 and 1")
        f = f != 0
    if not _fits(tuple(f.shape), shape):
        raise ValueError(f"{name} with shape {tuple(f.shape)} does not broadcast to the input "
                         f"shape {shape}")
    return f.expand(shape)


def _rl_rate(call: _Call, value: Any, name: str, shape: tuple[int, ...], ax: int) -> Any:
    """An RL rate (:func:`scanwise.rl.args.rate`): a float, a 0-d tensor, a per-step
    tensor (the input's number of dimensions) or a per-env one (with length 1 along
    ``ax``).  Values are checked to lie in [0, 1] outside ``torch.compile``."""
    torch = call.torch
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = float(value)  # plain Python (traceable): the check of scanwise._validate.rate
        if not 0 <= x <= 1:
            raise ValueError(f"{name} must be finite and lie in [0, 1], got {x!r}")
        return x
    if not isinstance(value, torch.Tensor):
        arr = v.rate(value, name)  # a host value: NumPy's checks and messages
        if arr.ndim == 0:
            return float(arr)
        value = arr
    t = call.tensor(value, name)
    if t.dtype == torch.bool or t.dtype.is_complex:
        raise TypeError(f"{name} must be real, got dtype {t.dtype}")
    if not call.compiling:
        inside = (t >= 0) & (t <= 1)  # NaN fails both comparisons
        if not bool(inside.all()):
            shown = repr(t.item()) if t.ndim == 0 else \
                f"an array containing {t[~inside].flatten()[0].item()!r}"
            raise ValueError(f"{name} must be finite and lie in [0, 1], got {shown}")
    if t.ndim == 0:
        return t
    reduced = shape[:ax] + shape[ax + 1 :]
    if t.ndim == len(shape):
        if not _fits(tuple(t.shape), shape):
            raise ValueError(
                f"{name} with shape {tuple(t.shape)} does not broadcast to the input shape "
                f"{shape} (a rate with the input's {len(shape)} dimensions is per step)"
            )
        return t
    if not _fits(tuple(t.shape), reduced):
        raise ValueError(
            f"{name} with shape {tuple(t.shape)} does not broadcast to the non-time shape "
            f"{reduced} (one rate per series); a per-step {name} needs the input's "
            f"{len(shape)} dimensions (e.g. {name}[:, None] for one rate per step shared "
            "by every series)"
        )
    return t.expand(reduced).unsqueeze(ax)


def _rl_valid(call: _Call, value: Any, shape: tuple[int, ...], ax: int) -> Any:
    """``valid`` as a bool tensor, or None when every step is valid (eagerly checked)."""
    if value is None:
        return None
    ok = _rl_flags(call, value, shape, ax, "valid")
    return None if not call.compiling and bool(ok.all()) else ok


def _gate(call: _Call, rate: Any, ok: Any, shape: tuple[int, ...], cdt: Any) -> tuple[Any, float]:
    """A scan's gate as the op's ``(a, a_scalar)``: a Python float stays a scalar unless
    skipped steps need a = 1 there."""
    torch = call.torch
    if isinstance(rate, float) and ok is None:
        return None, rate
    if isinstance(rate, float):
        rate = torch.tensor(rate, dtype=cdt, device=call.device)
    a = rate.to(cdt)
    if ok is not None:
        a = torch.where(ok, a, torch.ones((), dtype=cdt, device=call.device))
    return a.expand(shape), 0.0


def _gae_scan(call: _Call, arrays: dict[str, Any], given: dict[str, Any], ax: int,
              cdt: Any) -> tuple[Any, Any]:
    """``(advantages, returns)`` in ``cdt``: the recurrence of :func:`scanwise.gae`."""
    torch = call.torch
    r, vals, nv = (arrays[n].to(cdt) for n in _REWARDS)
    shape = tuple(r.shape)
    term = _rl_flags(call, given["terminated"], shape, ax, "terminated")
    dn = term if given["done"] is None else _rl_flags(call, given["done"], shape, ax, "done")
    ok = _rl_valid(call, given["valid"], shape, ax)
    g = _rl_rate(call, given["discount"], "discount", shape, ax)
    lm = _rl_rate(call, given["lam"], "lam", shape, ax)
    boot = nv * (g if isinstance(g, float) else g.to(cdt))
    # the bootstrap times zero (not dropped) at a terminal step: NaN still propagates
    boot = torch.where(term, boot - boot, boot)
    delta = r + boot - vals
    reset = dn
    if ok is not None:
        delta = torch.where(ok, delta, torch.zeros((), dtype=cdt, device=call.device))
        reset = dn & ok
    gl = g * lm  # multiplied while compact, as the NumPy path
    a, a_scalar = _gate(call, gl, ok, shape, cdt)
    ops = _ops()
    adv = ops.linear_scan(delta, a, a_scalar, None, None, reset, ax, True)
    ret = adv + vals
    if ok is not None:  # a skipped step repeats the next valid step's return (0 past all)
        ret = ops.linear_scan(torch.where(ok, ret, torch.zeros((), dtype=cdt,
                                                               device=call.device)),
                              None, 1.0, None, None, ok, ax, True)
    return adv, ret


def _gae(rewards: Any, values: Any, next_values: Any, *, terminated: Any, done: Any,
         discount: Any, lam: Any, valid: Any, axis: Any, dim: Any, out: Any) -> Any:
    """:func:`scanwise.gae` of tensors, differentiable."""
    given = dict(rewards=rewards, values=values, next_values=next_values, terminated=terminated,
                 done=done, discount=discount, lam=lam, valid=valid)
    call, arrays, ax, result, cdt = _rl_call(
        given, _REWARDS, ("terminated", "done", "valid", "discount", "lam"), axis, dim, out)
    adv, ret = _gae_scan(call, arrays, given, ax, cdt)
    return adv.to(result), ret.to(result)


def _lambda_returns(rewards: Any, values: Any, next_values: Any, *, terminated: Any,
                    done: Any, discount: Any, lam: Any, valid: Any, axis: Any,
                    dim: Any) -> Any:
    """:func:`scanwise.lambda_returns` of tensors, differentiable."""
    return _gae(rewards, values, next_values, terminated=terminated, done=done,
                discount=discount, lam=lam, valid=valid, axis=axis, dim=dim, out=None)[1]


def _discounted_returns(rewards: Any, *, discount: Any, done: Any, bootstrap: Any,
                        valid: Any, axis: Any, dim: Any) -> Any:
    """:func:`scanwise.discounted_returns` of tensors, differentiable (``bootstrap``
    too: the state carried in before the last step)."""
    given = dict(rewards=rewards, bootstrap=bootstrap, done=done, discount=discount)
    call, arrays, ax, result, cdt = _rl_call(
        given, ("rewards", "bootstrap"), ("done", "discount"), axis, dim)
    torch = call.torch
    b = arrays["rewards"].to(cdt)
    shape = tuple(b.shape)
    dn = None if done is None else _rl_flags(call, done, shape, ax, "done")
    ok = _rl_valid(call, valid, shape, ax)
    g = _rl_rate(call, discount, "discount", shape, ax)
    boot = None
    if bootstrap is not None:
        boot = _state(call, arrays["bootstrap"], shape, ax, "bootstrap", cdt)
    reset = dn
    if ok is not None:
        b = torch.where(ok, b, torch.zeros((), dtype=cdt, device=call.device))
        reset = None if dn is None else dn & ok
    a, a_scalar = _gate(call, g, ok, shape, cdt)
    # a done step does not receive the carried state: a reset to the identity 0
    h = _ops().linear_scan(b, a, a_scalar, boot, None, reset, ax, True)
    return h.to(result)


_GRAD_RL: dict[str, Callable[..., Any]] = {
    "gae": _gae,
    "lambda_returns": _lambda_returns,
    "discounted_returns": _discounted_returns,
}


# ------------------------------------------------------------------ EWM (host, no grad)
def _ewm(fn: Any, *args: Any, dim: Any = None, **kwargs: Any) -> Any:
    """An EWM statistic of tensors: computed by the NumPy implementation on the host,
    returned as a tensor on the input's device (float input keeps its dtype, integers
    and bools give the default float dtype)."""
    names = ["x", "y"][: len(args)]
    named = list(zip(names, args, strict=True)) + [(k, kwargs.get(k)) for k in _KEYWORDS]
    call = _Call(named)
    torch = call.torch
    for name, value in named:
        if isinstance(value, torch.Tensor) and value.requires_grad:
            raise TypeError(
                f"{name} requires grad, and the EWM statistics are not differentiable "
                f"(they are computed on the host): pass {name}.detach()"
            )
    if dim is not None:
        kwargs["axis"] = _dim_alias(kwargs.get("axis"), dim)
    out = kwargs.pop("out", None)
    host = [_host(call, value, name) for name, value in zip(names, args, strict=True)]
    for key in _KEYWORDS:
        if isinstance(kwargs.get(key), torch.Tensor):
            kwargs[key] = _host(call, kwargs[key], key)
    got = fn(*host, **kwargs)
    result, state = (got, None) if not isinstance(got, tuple) else got
    dtype = None
    for value in args:
        if isinstance(value, torch.Tensor):
            dtype = value.dtype if dtype is None else torch.promote_types(dtype, value.dtype)
    tensor = torch.from_numpy(np.ascontiguousarray(result)).to(
        device=call.device, dtype=_floating(dtype if dtype is not None else torch.float64)
    )
    tensor = _finish(call, tensor, out)
    return tensor if state is None else (tensor, state)


def _dim_alias(axis: Any, dim: Any) -> Any:
    if axis is not None and axis != dim:
        raise ValueError(f"pass axis= or dim= (its torch spelling), not both: {axis}, {dim}")
    return dim


def _host(call: _Call, value: Any, name: str) -> Any:
    """A tensor argument as a NumPy array on the host (float16/bfloat16 as float32)."""
    torch = call.torch
    if not isinstance(value, torch.Tensor):
        return value
    t = call.tensor(value, name)
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t.detach().cpu().resolve_conj().resolve_neg().numpy()


_ROUTES: dict[str, Callable[..., Any]] = {
    "cumsum": cumsum,
    "cumprod": cumprod,
    "logcumsumexp": logcumsumexp,
    "linear_recurrence": linear_recurrence,
    "discounted_cumsum": discounted_cumsum,
    "ewm_mean": _ewm,
    "ewm_var": _ewm,
    "ewm_std": _ewm,
    "ewm_cov": _ewm,
    "ewm_corr": _ewm,
}
