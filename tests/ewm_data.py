"""Test data for the EWM family: series with the NaN patterns pandas treats specially."""

from __future__ import annotations

import numpy as np

# one of each decay parameter; com=1 (alpha=0.5) was pandas 3.0's special case for
# adjust=False (gated on times= since pandas 3.1)
DECAYS = [
    {"alpha": 0.3},
    {"com": 1.0},
    {"span": 7.5},
    {"halflife": 2.5},
    {"alpha": 1.0},
    {"com": 0.0},
]


def with_nans(rng: np.random.Generator, n_t: int, n_cols: int, frac: float = 0.2) -> np.ndarray:
    """Columns: random NaNs, leading NaNs, a long gap, all NaN, none, NaN at the end."""
    x = rng.standard_normal((n_t, n_cols)) * rng.uniform(0.1, 100, n_cols) + rng.normal(
        0, 50, n_cols
    )
    x[rng.random(x.shape) < frac] = np.nan
    if n_cols > 1:
        x[: n_t // 5, 1] = np.nan  # leading NaNs
    if n_cols > 2:
        x[n_t // 3 : n_t // 2, 2] = np.nan  # a long gap
    if n_cols > 3:
        x[:, 3] = np.nan  # all NaN
    if n_cols > 4:
        x[:, 4] = rng.standard_normal(n_t)  # no NaN
    if n_cols > 5:
        x[-n_t // 4 :, 5] = np.nan  # trailing NaNs
    return x
