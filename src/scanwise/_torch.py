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


def to_numpy(value: Any) -> Any:
    """A CPU NumPy view/copy of a tensor (bfloat16/float16 → float32); other values as is."""
    if not is_tensor(value):
        return value
    import torch

    t = value.detach()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return t.cpu().numpy()


def like(result: np.ndarray, template: Any, dtype: Any = None) -> Any:
    """``result`` as a tensor on ``template``'s device, in ``dtype`` (default: template's)."""
    import torch

    out = torch.from_numpy(np.ascontiguousarray(result))
    return out.to(device=template.device, dtype=dtype if dtype is not None else template.dtype)
