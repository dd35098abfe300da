"""EW statistics on strided layouts with many lanes (issue 23; at least
``scanwise._layout.STAGED_MIN_LANES``): F-ordered arrays and DataFrames, column slices,
negative strides.  Those run the vectorised lane loop over
transposed tiles of 64 steps (the staged kernels): the results must equal pandas (the
oracle, to 1e-10) and, bit for bit, the same values passed C-contiguous (a layout never
changes a result: each lane is scanned in time order either way).  Shapes cross tile
borders (T not a multiple of 64, resets on a border) and the last task's lane count is
not a multiple of 8."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scanwise

T, N = 203, 41  # four tiles, the last of 11 steps; (two threads) tasks of 24 and 17 lanes


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N)) * 3 + 1e3
    y = x * 0.5 + rng.standard_normal((T, N))
    x[rng.random(x.shape) < 0.05] = np.nan
    y[rng.random(y.shape) < 0.05] = np.nan
    reset = np.zeros((T, N), bool)
    reset[[63, 64, 150], :] = True  # on a tile border and inside a tile
    return x, y, reset


def _layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    wide[:, 1::2] = a
    flipped = np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    return {"F": np.asfortranarray(a), "every other column": wide[:, 1::2],
            "column slice": np.hstack([a, a])[:, : a.shape[1]], "negative strides": flipped}


STATS = {
    "mean": lambda x, y, **kw: scanwise.ewm_mean(x, axis=0, **kw),
    "var": lambda x, y, **kw: scanwise.ewm_var(x, axis=0, **kw),
    "std": lambda x, y, **kw: scanwise.ewm_std(x, axis=0, **kw),
    "cov": lambda x, y, **kw: scanwise.ewm_cov(x, y, axis=0, **kw),
    "corr": lambda x, y, **kw: scanwise.ewm_corr(x, y, axis=0, **kw),
}
OPTIONS = [
    {"alpha": 0.1},  # pandas' defaults otherwise: the constant-flag lane loops
    {"alpha": 0.1, "adjust": False, "ignore_na": True, "min_periods": 3},  # the general one
]


def _pandas(stat: str, x: np.ndarray, y: np.ndarray, kw: dict) -> np.ndarray:
    ew = pd.DataFrame(x).ewm(**kw)
    if stat in ("cov", "corr"):
        return getattr(ew, stat)(pd.DataFrame(y)).to_numpy()
    return getattr(ew, stat)().to_numpy()


@pytest.mark.parametrize("kw", OPTIONS, ids=["defaults", "general"])
@pytest.mark.parametrize("stat", list(STATS))
def test_strided_layouts_equal_pandas_and_the_contiguous_call(stat, kw):
    x, y, _ = _data(1)
    want = _pandas(stat, x, y, kw)
    contiguous = STATS[stat](x, y, **kw)
    np.testing.assert_allclose(contiguous, want, rtol=1e-10, atol=1e-12, equal_nan=True)
    xs, ys = _layouts(x), _layouts(y)
    for name in xs:
        got = STATS[stat](xs[name], ys[name], **kw)
        assert np.array_equal(got, contiguous, equal_nan=True), name


# (mean, var and corr: one kernel each; std and cov run var's kernel, whose staged reset
# and state path this covers; every statistic is checked without resets above)
@pytest.mark.parametrize("stat", ["mean", "var", "corr"])
def test_resets_and_state_across_calls_on_a_dataframe(stat):
    """A DataFrame (F-ordered values) with resets on a tile border, split in two calls
    whose state carries over: equal to pandas run segment by segment."""
    x, y, reset = _data(2)
    kw = {"alpha": 0.2}
    seg = np.cumsum(reset[:, 0])
    want = np.vstack([_pandas(stat, x[seg == s], y[seg == s], kw) for s in np.unique(seg)])
    fx, fy = pd.DataFrame(x), pd.DataFrame(y)
    cut = 100
    first, state = STATS[stat](fx.iloc[:cut], fy.iloc[:cut], reset=reset[:cut],
                               return_state=True, **kw)
    second = STATS[stat](fx.iloc[cut:], fy.iloc[cut:], reset=reset[cut:], state=state, **kw)
    got = np.vstack([np.asarray(first), np.asarray(second)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True)
    # and bit for bit the single C-contiguous call
    one = STATS[stat](x, y, reset=reset, **kw)
    assert np.array_equal(got, one, equal_nan=True)


def test_float32_strided_equals_contiguous():
    """float32 kernels (one statistic per kernel family: each compiles its own copy)."""
    x, y, _ = _data(3)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    for stat in ("mean", "var"):
        fn = STATS[stat]
        want = fn(x32, y32, alpha=0.1)
        got = fn(np.asfortranarray(x32), np.asfortranarray(y32), alpha=0.1)
        assert got.dtype == np.float32 and np.array_equal(got, want, equal_nan=True), stat
