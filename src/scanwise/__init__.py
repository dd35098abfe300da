"""scanwise: fast scans (cumulative sums and products, discounted sums, log-space scans
and first-order linear recurrences) at memory-bandwidth speed.

Importing scanwise compiles nothing: kernels are compiled on first use and cached.
"""

from __future__ import annotations

import sys as _sys

from ._versions import show_versions
from .ewm import EWMState, ewm_corr, ewm_cov, ewm_mean, ewm_std, ewm_var
from .rl import (
    discounted_returns,
    gae,
    lambda_returns,
    n_step_returns,
    off_policy_returns,
    q_lambda_traces,
    retrace_traces,
    tree_backup_traces,
    vtrace,
)
from .scans import cumprod, cumsum, discounted_cumsum, linear_recurrence, logcumsumexp

__all__ = [
    "EWMState",
    "cumprod",
    "cumsum",
    "discounted_cumsum",
    "discounted_returns",
    "ewm_corr",
    "ewm_cov",
    "ewm_mean",
    "ewm_std",
    "ewm_var",
    "gae",
    "lambda_returns",
    "linear_recurrence",
    "logcumsumexp",
    "n_step_returns",
    "off_policy_returns",
    "q_lambda_traces",
    "retrace_traces",
    "show_versions",
    "tree_backup_traces",
    "vtrace",
]
__version__ = "0.1.0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)

# pl.col(...).scanwise: registered here when polars is already imported (scanwise never
# imports it); `import scanwise.polars` registers it in any import order
if "polars" in _sys.modules:
    from .backends.polars import register as _register_polars

    _register_polars()
