"""The PyTorch backend (issue 21): scanwise on tensors against what a torch user has.

CPU, in one process (best of N calls after a warm-up call that also compiles):

- ``scanwise.cumsum`` vs ``torch.cumsum``, ``scanwise.logcumsumexp`` vs
  ``torch.logcumsumexp``, ``scanwise.linear_recurrence`` vs a PyTorch loop over time
  (and accelerated-scan's pure-torch reference ``accelerated_scan.ref.scan`` when it
  is installed), each beside a tensor copy of the input (``out.copy_(x)``: the memory
  floor of a pass that reads one tensor and writes one);
- forward alone and forward+backward (``torch.autograd.grad`` of the output against a
  fixed cotangent: scanwise's backward is a reverse scan by the same kernels);
- at ``[1e5, 200]`` float64 along dim 0 (time-major, the issue's case) and
  ``(8, 1536, 4096)`` float32 along the last dim (time contiguous).

Printed ratios: peer / scanwise (speed-up), scanwise / copy (distance from the floor),
forward+backward / forward.  Every scanwise result is checked against its peer before
anything is timed.

CUDA, when ``torch.cuda.is_available()``: ``scanwise.linear_recurrence`` and
``scanwise.cumsum`` vs ``torch.cumsum`` and accelerated-scan (``warp``: CUDA C++ built
at import, power-of-two lengths 32..65536; ``scalar``: Triton) when importable, forward
and backward, at ``(8, 1536, T)`` for ``T = 2**7 .. 2**16`` (time contiguous) and
``(16, T, 128)`` channels-last (time along dim 1; accelerated-scan needs ``(B, C, T)``
contiguous, so its figures there include the transposes a user would pay).  Each time is
the median of CUDA-event timings; the fraction of HBM bandwidth is the bytes a pass must
move (forward ``h = a h + b``: read a, b, write h; backward: read the cotangent, a and
h, write da and db; cumsum: one read and one write each way) over the time, over the
device's peak (from the table below by device name, else a measured copy, printed too).

Every figure is also recorded (``_results.Recorder``, suite ``torch``) into the results
file that ``--record PATH`` or ``$SCANWISE_BENCH_RESULTS`` names (``make bench``).
``--quick`` (or ``SCANWISE_BENCH_QUICK=1``) runs small sizes, to check that the script
works; ``--cpu-only`` skips the CUDA section.

Run:  python benchmarks/bench_torch.py [--quick] [--cpu-only] [--record PATH]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics

import numba
import torch
from _results import Recorder

import scanwise
from scanwise.timing import best_time, optional

REC = Recorder("torch")

# autograd through the loop over more elements than this ran for over ten minutes a case
# ([1e5, 200] and (8, 1536, 4096)); its forward alone is still timed there
LOOP_GRAD_MAX_SIZE = 2_000_000
FAST = 7  # best of FAST calls for scanwise, the torch ops and the copy floor
SLOW = 2  # best of SLOW calls for the Python loops

# peak HBM/GDDR bandwidth in GB/s (10**9 bytes/s) by a substring of the device name,
# vendors' data sheets; the first match wins, so longer names come first
PEAK_GBPS = (
    ("GB200", 8000.0), ("B200", 8000.0), ("B100", 8000.0),
    ("GH200", 4900.0), ("H200", 4800.0), ("H100 NVL", 3900.0), ("H100 PCIe", 2000.0),
    ("H100", 3350.0), ("H800", 3350.0), ("H20", 4000.0),
    ("A100-SXM4-80GB", 2039.0), ("A100 80GB PCIe", 1935.0), ("A100", 1555.0),
    ("A800", 2039.0), ("A30", 933.0), ("A10G", 600.0), ("A10", 600.0),
    ("L40S", 864.0), ("L40", 864.0), ("L4", 300.0), ("T4", 320.0), ("V100", 900.0),
    ("RTX 5090", 1792.0), ("RTX 4090", 1008.0), ("RTX 3090", 936.0), ("RTX A6000", 768.0),
    ("RTX 6000 Ada", 960.0), ("MI300X", 5300.0), ("MI250X", 3277.0),
)


# ------------------------------------------------------------------ the peers
def torch_loop(a, b, dim):
    """``h[t] = a[t] * h[t-1] + b[t]``: a Python loop over time, torch ops per step
    (what a user writes without a scan); differentiable through autograd."""
    a_t, b_t = a.movedim(dim, 0), b.movedim(dim, 0)
    h = b_t[0]
    out = [h]
    for t in range(1, b_t.shape[0]):
        h = a_t[t] * h + b_t[t]
        out.append(h)
    return torch.stack(out, dim)


def copy_floor(x):
    out = torch.empty_like(x)
    return lambda: out.copy_(x)


def forward_backward(fn, inputs, cot):
    """A callable timing one forward and one backward pass of ``fn(*inputs)``."""
    def run():
        y = fn(*inputs)
        return torch.autograd.grad(y, inputs, cot)
    return run


def _close(got, want, rtol):
    torch.testing.assert_close(got, want, rtol=rtol, atol=rtol)


def line(case, peer, t_peer, t_sw, t_copy=None, size=None, **params):
    """Print one comparison and record its figures (peer, scanwise, the copy floor)."""
    REC.add(case, peer, t_peer, role="peer", size=size, **params)
    REC.add(case, "scanwise", t_sw, role="scanwise", size=size, **params)
    floor = ""
    if t_copy is not None:
        REC.add(case, "tensor copy", t_copy, role="floor", size=size, **params)
        floor = f"  scanwise/copy {t_sw / t_copy:5.2f}x"
    print(f"{case:<58} {peer:<22} {t_peer * 1e3:9.2f} ms  scanwise {t_sw * 1e3:8.2f} ms  "
          f"speed-up {t_peer / t_sw:7.1f}x{floor}", flush=True)


# ------------------------------------------------------------------ CPU
def bench_cpu(shape, dim, dtype, loop_ok=True):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen, dtype=dtype)
    a = 0.5 + 0.5 * torch.rand(shape, generator=gen, dtype=dtype)
    cot = torch.randn(shape, generator=gen, dtype=dtype)
    size = x.numel()
    label = f"{list(shape)} dim {dim} {str(dtype).removeprefix('torch.')}"
    rtol = 1e-9 if dtype == torch.float64 else 1e-3
    t_copy = best_time(copy_floor(x), repeat=FAST)
    REC.add(f"copy {label}", "tensor copy", t_copy, role="info", size=size)
    print(f"--- {label}: tensor copy {t_copy * 1e3:.2f} ms "
          f"(torch threads {torch.get_num_threads()}, numba threads "
          f"{numba.get_num_threads()})", flush=True)

    # cumsum and logcumsumexp against torch's own
    for name, ours, theirs in (
        ("cumsum", lambda x: scanwise.cumsum(x, dim=dim), lambda x: torch.cumsum(x, dim)),
        ("logcumsumexp", lambda x: scanwise.logcumsumexp(x, dim=dim),
         lambda x: torch.logcumsumexp(x, dim)),
    ):
        _close(ours(x), theirs(x), rtol)
        t_sw = best_time(lambda ours=ours: ours(x), repeat=FAST)
        t_peer = best_time(lambda theirs=theirs: theirs(x), repeat=FAST)
        line(f"{name} {label} forward", f"torch.{name}", t_peer, t_sw, t_copy, size)
        xg = x.clone().requires_grad_()
        g1 = forward_backward(ours, (xg,), cot)()
        g2 = forward_backward(theirs, (xg,), cot)()
        _close(g1[0], g2[0], rtol)
        t_swb = best_time(forward_backward(ours, (xg,), cot), repeat=FAST)
        t_peerb = best_time(forward_backward(theirs, (xg,), cot), repeat=FAST)
        line(f"{name} {label} forward+backward", f"torch.{name}", t_peerb, t_swb, None, size)
        print(f"{'':<58} forward+backward / forward: scanwise {t_swb / t_sw:4.2f}x, "
              f"torch.{name} {t_peerb / t_peer:4.2f}x", flush=True)
        del xg, g1, g2
        gc.collect()

    # linear_recurrence against a PyTorch loop (and accelerated-scan's reference)
    def ours(a, b):
        return scanwise.linear_recurrence(a, b, dim=dim)

    t_sw = best_time(lambda: ours(a, x), repeat=FAST)
    case = f"linear_recurrence {label} forward"
    caseb = f"linear_recurrence {label} forward+backward"
    ag, xg = a.clone().requires_grad_(), x.clone().requires_grad_()
    t_swb = best_time(forward_backward(ours, (ag, xg), cot), repeat=FAST)
    REC.add(case, "tensor copy", t_copy, role="floor", size=size)
    if loop_ok:
        _close(ours(a, x), torch_loop(a, x, dim), rtol)
        t_loop = best_time(lambda: torch_loop(a, x, dim), repeat=SLOW)
        line(case, "pytorch loop", t_loop, t_sw, t_copy, size)
    if loop_ok and size <= LOOP_GRAD_MAX_SIZE:
        want = forward_backward(lambda a, b: torch_loop(a, b, dim), (ag, xg), cot)()
        got = forward_backward(ours, (ag, xg), cot)()
        for g1, g2 in zip(got, want, strict=True):
            _close(g1, g2, rtol)
        del got, want
        t_loopb = best_time(forward_backward(lambda a, b: torch_loop(a, b, dim), (ag, xg),
                                             cot), repeat=SLOW)
        line(caseb, "pytorch loop", t_loopb, t_swb, None, size)
    else:
        REC.add(caseb, "scanwise", t_swb, role="scanwise", size=size)
        if loop_ok:
            print(f"{caseb:<58} scanwise {t_swb * 1e3:8.2f} ms  (the loop's backward: "
                  f"more than {LOOP_GRAD_MAX_SIZE:.0e} elements, not run)", flush=True)
        else:
            REC.add(case, "scanwise", t_sw, role="scanwise", size=size)
            print(f"{case:<58} scanwise {t_sw * 1e3:8.2f} ms  scanwise/copy "
                  f"{t_sw / t_copy:5.2f}x", flush=True)
    print(f"{'':<58} forward+backward / forward: scanwise {t_swb / t_sw:4.2f}x", flush=True)
    ref = optional("accelerated_scan.ref")
    if ref is None:
        print(f"{'':<58} accelerated-scan not installed: its reference skipped")
    elif dim == len(shape) - 1 and len(shape) == 3:  # its layout: (B, C, T) contiguous
        _close(ref.scan(a, x), ours(a, x), rtol)
        t_ref = best_time(lambda: ref.scan(a, x), repeat=FAST)
        line(case, "accelerated_scan.ref", t_ref, t_sw, t_copy, size)
        t_refb = best_time(forward_backward(ref.scan, (ag, xg), cot), repeat=SLOW)
        line(caseb, "accelerated_scan.ref", t_refb, t_swb, None, size)


# ------------------------------------------------------------------ CUDA
def cuda_time(fn, reps=10, warmup=3):
    """Median seconds of ``fn`` by CUDA events (after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def hbm_peak(name):
    """(peak GB/s, where it comes from): the table by device name, else a measured copy."""
    measured = measured_copy_gbps()
    for key, gbps in PEAK_GBPS:
        if key.lower() in name.lower():
            return gbps, f"data sheet ({key}); a measured copy reaches {measured:.0f} GB/s"
    return measured, "a measured copy (device not in the table)"


def measured_copy_gbps(nbytes=2**30):
    x = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda")
    y = torch.empty_like(x)
    t = cuda_time(lambda x=x, y=y: y.copy_(x), reps=20)
    del x, y
    return 2 * nbytes / t / 1e9


def accelerated_scan_kernels():
    """accelerated-scan's ``warp`` (CUDA C++, built at import) and ``scalar`` (Triton)
    scans, where they import."""
    found = {}
    for name in ("warp", "scalar"):
        try:
            module = __import__(f"accelerated_scan.{name}", fromlist=["scan"])
        except Exception as exc:  # not installed, or no nvcc to build the extension
            print(f"accelerated-scan {name}: not available ({type(exc).__name__}: "
                  f"{str(exc).splitlines()[0][:80] if str(exc) else ''})")
            continue
        found[name] = module.scan
    return found


def bench_cuda(lengths, quick):
    name = torch.cuda.get_device_name()
    peak, source = hbm_peak(name)
    print(f"\n=== CUDA: {name}; peak {peak:.0f} GB/s from {source}", flush=True)
    acc = accelerated_scan_kernels()
    for t in lengths:
        cuda_case((8, 1536, t), -1, acc, peak, name)
    for t in lengths[:: 2 if quick else 1]:
        cuda_case((16, t, 128), 1, acc, peak, name)


def cuda_case(shape, dim, acc, peak, device_name, dtype=torch.float32):
    gen = torch.Generator(device="cuda").manual_seed(0)
    b = torch.randn(shape, generator=gen, dtype=dtype, device="cuda")
    a = 0.5 + 0.5 * torch.rand(shape, generator=gen, dtype=dtype, device="cuda")
    cot = torch.randn(shape, generator=gen, dtype=dtype, device="cuda")
    n, esize = b.numel(), b.element_size()
    t_len = shape[dim]
    layout = "time contiguous" if dim in (-1, len(shape) - 1) else "channels-last"
    label = f"cuda {list(shape)} {layout} {str(dtype).removeprefix('torch.')}"

    def recurrence(a, b):
        return scanwise.linear_recurrence(a, b, dim=dim)

    methods = {"scanwise linear_recurrence": recurrence}
    for key, scan in acc.items():
        if layout == "time contiguous":
            methods[f"accelerated-scan {key}"] = scan
        else:  # (B, T, C) -> (B, C, T) contiguous and back: what a user has to do
            methods[f"accelerated-scan {key} (+transposes)"] = (
                lambda a, b, scan=scan: scan(a.transpose(1, 2).contiguous(),
                                             b.transpose(1, 2).contiguous()).transpose(1, 2))
    cumsums = {"scanwise cumsum": lambda b: scanwise.cumsum(b, dim=dim),
               "torch.cumsum": lambda b: torch.cumsum(b, dim)}
    want = recurrence(a.double(), b.double()) if n <= 2**26 else None
    rows = []
    for label_m, fn in methods.items():
        try:
            out = fn(a, b)
        except Exception as exc:  # e.g. warp: lengths that are not powers of two
            print(f"  {label_m}: failed ({type(exc).__name__}: {str(exc)[:60]})")
            continue
        if want is not None:
            torch.testing.assert_close(out.double(), want, rtol=1e-3, atol=1e-3)
        del out
        t_f = cuda_time(lambda fn=fn, a=a, b=b: fn(a, b))
        ag, bg = a.clone().requires_grad_(), b.clone().requires_grad_()
        y = fn(ag, bg)
        t_b = cuda_time(lambda y=y, ag=ag, bg=bg, cot=cot: torch.autograd.grad(
            y, (ag, bg), cot, retain_graph=True))
        del y, ag, bg
        rows.append((label_m, t_f, t_b, 3 * n * esize, 5 * n * esize))
    for label_m, fn in cumsums.items():
        t_f = cuda_time(lambda fn=fn, b=b: fn(b))
        bg = b.clone().requires_grad_()
        y = fn(bg)
        t_b = cuda_time(lambda y=y, bg=bg, cot=cot: torch.autograd.grad(
            y, (bg,), cot, retain_graph=True))
        del y, bg
        rows.append((label_m, t_f, t_b, 2 * n * esize, 2 * n * esize))
    print(f"{label} (T={t_len}):", flush=True)
    for label_m, t_f, t_b, bytes_f, bytes_b in rows:
        frac_f = bytes_f / t_f / 1e9 / peak
        frac_b = bytes_b / t_b / 1e9 / peak
        # two comparisons: the recurrence (scanwise vs accelerated-scan) and cumsum
        # (scanwise vs torch.cumsum), each with its own scanwise figure
        op = "cumsum" if "cumsum" in label_m else "linear recurrence"
        role = "scanwise" if label_m.startswith("scanwise") else "peer"
        for what, t_x, frac in (("forward", t_f, frac_f), ("backward", t_b, frac_b)):
            REC.add(f"{label} {op} {what}", label_m, t_x, role=role, size=n,
                    series=f"cuda {layout} {op} {what}", hbm_fraction=round(frac, 4),
                    device=device_name, T=t_len)
        print(f"  {label_m:<42} forward {t_f * 1e3:8.3f} ms ({frac_f:6.1%} of HBM)  "
              f"backward {t_b * 1e3:8.3f} ms ({frac_b:6.1%})", flush=True)
    del a, b, cot, want
    gc.collect()
    torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--cpu-only", action="store_true", help="skip the CUDA section")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("SCANWISE_BENCH_QUICK") == "1"
    if quick:
        cases = (((4096, 64), 0, torch.float64), ((2, 96, 512), 2, torch.float32))
        lengths = [2**k for k in range(7, 11)]
    else:
        cases = (((100_000, 200), 0, torch.float64), ((8, 1536, 4096), 2, torch.float32))
        lengths = [2**k for k in range(7, 17)]
    for shape, dim, dtype in cases:
        bench_cpu(shape, dim, dtype)
        gc.collect()
    if args.cpu_only:
        pass
    elif torch.cuda.is_available():
        bench_cuda(lengths, quick)
    else:
        print("\nCUDA: no device (torch.cuda.is_available() is False): section skipped")
    REC.save()


if __name__ == "__main__":
    main()
