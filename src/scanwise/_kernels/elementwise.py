"""Fused element-wise kernels on the canonical ``(outer, T, inner)`` layout.

``td_error`` writes the temporal-difference error of every step in one pass over the
inputs, so GAE reads each input once instead of building NumPy temporaries.
"""

from __future__ import annotations

from numba import prange

from .access import at
from .jit import kernel


@kernel
def td_error(rewards, values, next_values, terminated, discount, out):  # pragma: no cover
    """``out = rewards + discount * next_values * (1 - terminated) - values``.

    As in TorchRL and SB3 the bootstrap term is multiplied by zero (not dropped) at a
    terminal step, so a NaN ``next_values`` there still propagates; ``x - x`` is that
    product in the input dtype (``x * 0`` would promote float32 to float64 in numba).
    """
    n_outer, n_t, n_inner = out.shape
    for k in prange(n_outer * n_t):
        o = k // n_t
        t = k - o * n_t
        for i in range(n_inner):
            boot = at(discount, o, t, i) * next_values[o, t, i]
            if terminated[o, t, i]:
                boot = boot - boot
            out[o, t, i] = rewards[o, t, i] + boot - values[o, t, i]
