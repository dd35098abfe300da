"""Every layout at contiguous speed? Each op on one [T, N] float64 array (1% NaN) laid
out five ways: C-contiguous (the reference), F-ordered, a column slice ``x[:, :N]`` of a
[T, 2N] C array, negative strides (``x[::-1, ::-1]`` of a C array: reversed in both
axes, so the inner axis runs backwards) and a pandas DataFrame (F-ordered values).
Prints each layout's time and its ratio to the C-contiguous call, and the copy floor
(``x.copy()``), all from one process, rounds interleaved.

Run:  python benchmarks/bench_layouts.py [--quick] [--record PATH]
"""

from __future__ import annotations

import argparse

import numpy as np
from _results import Recorder

import scanwise
from scanwise.timing import best_times, optional


def layouts(x: np.ndarray, pd) -> dict[str, object]:
    t, n = x.shape
    wide = np.empty((t, 2 * n))
    wide[:, :n] = x
    flipped = np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]  # same values, strides < 0
    out = {
        "C": x,
        "F": np.asfortranarray(x),
        "column slice": wide[:, :n],
        "negative strides": flipped,
    }
    if pd is not None:
        out["DataFrame"] = pd.DataFrame(x)
    return out


def ops(t: int, n: int, rng: np.random.Generator) -> dict[str, object]:
    done = rng.random((t, n)) < 0.01
    return {
        "cumsum": lambda a: scanwise.cumsum(a, axis=0),
        "discounted_cumsum reverse": lambda a: scanwise.discounted_cumsum(a, 0.99, axis=0,
                                                                          reverse=True),
        "linear_recurrence a=0.9": lambda a: scanwise.linear_recurrence(0.9, a, axis=0),
        "logcumsumexp": lambda a: scanwise.logcumsumexp(a, axis=0),
        "ewm_mean": lambda a: scanwise.ewm_mean(a, alpha=0.05, axis=0),
        "ewm_var": lambda a: scanwise.ewm_var(a, alpha=0.05, axis=0),
        "ewm_corr": lambda a: scanwise.ewm_corr(a, a, alpha=0.05, axis=0),
        "gae": lambda a: scanwise.gae(np.asarray(a), np.asarray(a), np.asarray(a),
                                      terminated=done, discount=0.99, lam=0.95)[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    args = parser.parse_args()
    pd = optional("pandas")
    rec = Recorder("layouts")
    t, n = (2000, 50) if args.quick else (100_000, 200)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t, n))
    x[rng.random(x.shape) < 0.01] = np.nan
    inputs = layouts(x, pd)
    reference = {}
    for name, fn in ops(t, n, rng).items():
        if name == "ewm_corr" or name == "gae":
            cases = {k: v for k, v in inputs.items() if k != "DataFrame"}
        else:
            cases = inputs
        fns = {k: (lambda a=a, fn=fn: fn(a)) for k, a in cases.items()}
        fns["x.copy()"] = lambda: x.copy()
        want = np.asarray(fn(x))
        for a in cases.values():  # every layout gives the C result
            np.testing.assert_allclose(np.asarray(fn(a)), want, rtol=1e-12, equal_nan=True)
        names = list(fns)
        got = best_times([fns[k] for k in names], [2 if args.quick else 3] * len(names),
                         rounds=3)
        times = dict(zip(names, got, strict=True))
        reference[name] = times["C"]
        parts = [f"{k} {times[k] * 1e3:7.2f} ms ({times[k] / times['C']:4.2f}x)"
                 for k in cases if k != "C"]
        print(f"{name:26s} [{t}, {n}]: C {times['C'] * 1e3:7.2f} ms | " + " | ".join(parts)
              + f" | copy {times['x.copy()'] * 1e3:6.2f} ms", flush=True)
        case = f"{name} [{t}, {n}]"
        rec.add(case, "C-contiguous", times["C"], role="scanwise", size=x.size)
        for k in cases:
            if k != "C":
                rec.add(case, k, times[k], role="variant", size=x.size)
        rec.add(case, "x.copy()", times["x.copy()"], role="floor", size=x.size)
    rec.save()


if __name__ == "__main__":
    main()
