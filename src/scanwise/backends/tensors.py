"""Adapter: PyTorch tensors in, PyTorch tensors out (same dtype and device).

torch is never imported by scanwise: a value is treated as a tensor only when the
``torch`` module is already loaded and the value is a ``torch.Tensor``.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def first_tensor(*values: Any) -> Any:
    """The first tensor among ``values`` (it decides the output device), or None."""
    return next((v for v in values if is_tensor(v)), None)


def to_numpy(value: Any, name: str = "input") -> Any:
    """A CPU NumPy view/copy of a tensor (bfloat16/float16 -> float32); other values as is.

    Tensors NumPy cannot hold get a ``TypeError`` naming the argument: meta tensors
    (no data), sparse or quantized layouts, and tensors that require grad (scanwise's
    NumPy path has no autograd: ``.detach()`` them).
    """
    if not is_tensor(value):
        return value
    import torch

    if value.device.type == "meta":
        raise TypeError(f"{name} is a tensor on the 'meta' device, which holds no data")
    if value.layout != torch.strided:
        raise TypeError(
            f"{name} is a {value.layout} tensor; pass a dense one (e.g. {name}.to_dense())"
        )
    if value.is_quantized:
        raise TypeError(f"{name} is a quantized tensor; pass {name}.dequantize()")
    if value.requires_grad:
        raise TypeError(
            f"{name} requires grad, and this scanwise function is not differentiable: pass "
            f"{name}.detach()"
        )
    if value.dtype in (torch.bfloat16, torch.float16):
        value = value.float()
    elif value.dtype.is_complex and value.dtype == torch.complex32:
        value = value.to(torch.complex64)
    try:
        return value.cpu().numpy()
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"{name}: a tensor of dtype {value.dtype} is not supported ({exc})") \
            from None


def result_dtype(*values: Any) -> Any:
    """The torch dtype of a result computed from ``values`` (tensors and numbers), by
    torch's promotion; integer and bool results become the default float dtype (as
    ``torch.mean`` would: an average or a discounted sum is never truncated)."""
    import torch

    dtype = None
    for value in values:
        if is_tensor(value):
            dtype = value.dtype if dtype is None else torch.promote_types(dtype, value.dtype)
    if dtype is None or not (dtype.is_floating_point or dtype.is_complex):
        return torch.get_default_dtype()
    return dtype


def like(result: np.ndarray, template: Any, dtype: Any = None) -> Any:
    """``result`` as a tensor on ``template``'s device, in ``dtype`` (default: template's)."""
    import torch

    out = torch.from_numpy(np.ascontiguousarray(result))
    return out.to(device=template.device, dtype=dtype if dtype is not None else template.dtype)
