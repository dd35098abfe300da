"""``scanwise demo --scheduler ADDRESS|local``: the demo's cumsum on a Dask cluster.

The [100000, 1000] float64 matrix is generated on the workers in chunks along time
(10 chunks of 10000 rows), kept there (``persist``), and scanned along time with
:func:`scanwise.cumsum`; dask's own ``cumsum`` runs on the same data for comparison, and
the last row is checked against the column sums.  Nothing but small summaries travels
back to this process.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def _timed(client: Any, lazy: Any) -> tuple[float, Any]:
    from distributed import wait

    t0 = time.perf_counter()
    done = client.persist(lazy)
    wait(done)
    return time.perf_counter() - t0, done


def run(scheduler: str, quick: bool = False) -> dict[str, float]:
    try:
        import dask.array as da
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is in the test env
        raise SystemExit("the Dask demo needs: pip install 'scanwise[dask]'") from None
    import scanwise

    rows, cols = (20_000, 500) if quick else (100_000, 1000)
    chunk = rows // 10
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        n_workers = len(client.scheduler_info()["workers"])
        print(f"Dask scheduler {client.scheduler.address} with {n_workers} workers")
        x = da.random.default_rng(0).standard_normal((rows, cols), chunks=(chunk, cols))
        t_gen, x = _timed(client, x)
        print(f"generated [{rows}, {cols}] float64 on the workers in {x.numblocks[0]} "
              f"chunks along time: {t_gen:.2f}s")
        results = {}
        for name, fn in [
            ("scanwise.cumsum", lambda arr: scanwise.cumsum(arr, axis=0)),
            ("dask.array.cumsum", lambda arr: arr.cumsum(axis=0)),
        ]:
            # warm up on other data (other keys): each worker imports numba and loads
            # (or compiles) the kernels
            _, out = _timed(client, fn(x[: 2 * chunk] + 1.0))
            del out
            t, out = _timed(client, fn(x))
            results[name] = t
            last = out[-1].compute()
            sums = x.sum(axis=0).compute()
            err = float(np.max(np.abs(last - sums) / np.maximum(1.0, np.abs(sums))))
            del out
            print(f"{name:<20} {t:8.3f}s   last row vs column sums: max rel. diff {err:.1e}")
        ratio = results["dask.array.cumsum"] / results["scanwise.cumsum"]
        print(f"scanwise on dask is {ratio:.1f}x dask's cumsum on the same cluster")
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
