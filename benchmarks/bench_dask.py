"""Out-of-core: a zarr array on disk, several times larger than the workers' memory,
scanned chunked along time on a LocalCluster (issue: every scan on Dask arrays).
Stores are uncompressed, so the disk and the scan are what is measured.

For 1 and 2 worker processes (memory limit per worker set below): scanwise.cumsum and
scanwise.ewm_mean from a zarr store to a zarr store, time and throughput (input bytes /
s), and the peak memory of the workers (distributed's MemorySampler: process memory of
the whole cluster, sampled every 0.1 s).  The in-memory NumPy path on one chunk-sized
slice of the same data gives the single-process throughput for comparison.

Every figure is also recorded (``_results.Recorder``, suite ``dask``) into the results
file that ``--record PATH`` or ``$SCANWISE_BENCH_RESULTS`` names (``make bench``).

Run:  python benchmarks/bench_dask.py [--quick] [--dir PATH] [--record PATH]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import Recorder

import scanwise
from scanwise.timing import best_time

REC = Recorder("dask")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dir", default=None, help="where to put the zarr stores")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    args = parser.parse_args()
    import dask
    import dask.array as da
    import zarr  # noqa: F401  (the stores below)
    from distributed import Client, LocalCluster, wait
    from distributed.diagnostics import MemorySampler

    rows, cols = (150_000, 500) if args.quick else (400_000, 1000)
    chunk_rows = 10_000
    limit = "600MiB"
    root = Path(args.dir or tempfile.mkdtemp(prefix="scanwise-bench-"))
    src = str(root / "x.zarr")
    nbytes = rows * cols * 8
    print(f"input: [{rows}, {cols}] float64 = {nbytes / 2**30:.2f} GiB on disk in {root}, "
          f"chunks of {chunk_rows} rows ({chunk_rows * cols * 8 / 2**20:.0f} MiB); "
          f"worker memory limit {limit}")
    with dask.config.set(scheduler="threads"):
        t0 = time.perf_counter()
        gen = da.random.default_rng(0).standard_normal((rows, cols), chunks=(chunk_rows, cols))
        gen.to_zarr(src, overwrite=True, compressors=None)
        print(f"wrote the input store in {time.perf_counter() - t0:.1f}s")

    # single process, in memory: one block's worth through the NumPy path
    block = np.asarray(da.from_zarr(src)[: 20 * chunk_rows].compute())
    out = np.empty_like(block)
    t_np = best_time(lambda: scanwise.cumsum(block, axis=0, out=out))
    t_np_ewm = best_time(lambda: scanwise.ewm_mean(block, axis=0, alpha=0.01, out=out))
    gbps = block.nbytes / 2**30
    case = f"in-memory NumPy path, {block.nbytes / 2**30:.2f} GiB block"
    REC.add(case, "scanwise.cumsum", gbps / t_np, role="info", unit="GiB/s", size=block.size)
    REC.add(case, "scanwise.ewm_mean", gbps / t_np_ewm, role="info", unit="GiB/s",
            size=block.size)
    print(f"in-memory NumPy path ({block.nbytes / 2**30:.2f} GiB): cumsum "
          f"{gbps / t_np:.2f} GiB/s, ewm_mean {gbps / t_np_ewm:.2f} GiB/s")
    block = out = None  # free the memory before the cluster starts

    # in memory, one process, threaded scheduler: scanwise vs dask's own cumsum
    mem = np.random.default_rng(1).standard_normal((rows // 4, cols))
    dmem = da.from_array(mem, chunks=(chunk_rows, cols))
    dst_mem = np.empty_like(mem)
    t_copy = best_time(lambda: np.copyto(dst_mem, mem))
    t_sw = best_time(lambda: scanwise.cumsum(dmem, axis=0).compute(scheduler="threads"))
    t_dk = best_time(lambda: dmem.cumsum(axis=0).compute(scheduler="threads"))
    case = f"in-memory dask [{rows // 4}, {cols}], {dmem.numblocks[0]} chunks, threads"
    REC.add(case, "dask.array.cumsum", t_dk, role="peer", size=mem.size)
    REC.add(case, "scanwise.cumsum", t_sw, role="scanwise", size=mem.size)
    REC.add(case, "np.copyto", t_copy, role="floor", size=mem.size)
    print(f"in-memory dask [{rows // 4}, {cols}], {dmem.numblocks[0]} chunks, threaded "
          f"scheduler: scanwise.cumsum {t_sw:.3f}s, dask.array.cumsum {t_dk:.3f}s "
          f"(speed-up {t_dk / t_sw:.1f}x), copy {t_copy:.3f}s (scanwise/copy "
          f"{t_sw / t_copy:.1f}x)", flush=True)
    mem = dmem = dst_mem = None

    for n_workers in (1, 2):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               memory_limit=limit, dashboard_address=None)
        with Client(cluster) as client:
            for name, fn in [
                ("cumsum", lambda x: scanwise.cumsum(x, axis=0)),
                ("ewm_mean", lambda x: scanwise.ewm_mean(x, axis=0, alpha=0.01)),
            ]:
                x = da.from_zarr(src)
                warm = fn(x[: 2 * chunk_rows] + 0.0)
                wait(client.persist(warm))  # numba import / cache load on every worker
                del warm
                dst = str(root / f"{name}-{n_workers}.zarr")
                ms = MemorySampler()
                with ms.sample(name, interval=0.1):
                    t0 = time.perf_counter()
                    da.to_zarr(fn(x), dst, overwrite=True, compute=True, compressors=None)
                    elapsed = time.perf_counter() - t0
                peak = ms.to_pandas()[name].max() / 2**20
                check = da.from_zarr(dst)[-1, :4].compute()
                want = da.from_zarr(src).sum(axis=0)[:4].compute() if name == "cumsum" else None
                ok = "" if want is None else (
                    f", last row vs column sums max rel. diff "
                    f"{np.max(np.abs(check - want) / np.maximum(1, np.abs(want))):.1e}")
                case = f"zarr to zarr [{rows}, {cols}], {n_workers} worker(s) of {limit}"
                REC.add(case, f"scanwise.{name}", elapsed, role="info", size=rows * cols,
                        workers=n_workers)
                REC.add(case, f"scanwise.{name} throughput", nbytes / 2**30 / elapsed,
                        role="info", unit="GiB/s", workers=n_workers)
                REC.add(case, f"scanwise.{name} peak cluster memory", peak, role="info",
                        unit="MiB", workers=n_workers)
                print(f"{n_workers} worker(s) {name:<9} {elapsed:7.2f}s  "
                      f"{nbytes / 2**30 / elapsed:5.2f} GiB/s  peak cluster memory "
                      f"{peak:6.0f} MiB ({peak / n_workers:5.0f} MiB per worker; data "
                      f"{nbytes / 2**20:.0f} MiB){ok}", flush=True)
                shutil.rmtree(dst, ignore_errors=True)
        cluster.close()
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    sweep()
    REC.save()


def sweep() -> None:
    """Time against size: in-memory dask cumsum of [n, 1000] in chunks of 10000 rows on
    the threaded scheduler, scanwise beside dask.array.cumsum and the copy floor."""
    import dask.array as da

    for n in (20_000, 50_000, 100_000):
        a = np.random.default_rng(2).standard_normal((n, 1000))
        d = da.from_array(a, chunks=(10_000, 1000))
        dst = np.empty_like(a)
        t_copy = best_time(lambda a=a, dst=dst: np.copyto(dst, a))
        t_sw = best_time(lambda d=d: scanwise.cumsum(d, axis=0).compute(scheduler="threads"))
        t_dk = best_time(lambda d=d: d.cumsum(axis=0).compute(scheduler="threads"))
        case, series = f"sweep dask cumsum [{n}, 1000], chunks of 10000 rows", "dask [n, 1000]"
        REC.add(case, "dask.array.cumsum", t_dk, role="peer", size=a.size,
                series=series)
        REC.add(case, "scanwise.cumsum", t_sw, role="scanwise", size=a.size,
                series=series)
        REC.add(case, "np.copyto", t_copy, role="floor", size=a.size,
                series=series)
        print(f"{case}: scanwise {t_sw:.3f}s  dask {t_dk:.3f}s  copy {t_copy:.3f}s", flush=True)


if __name__ == "__main__":
    main()
