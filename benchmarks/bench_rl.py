"""RL returns (issues: GAE, discounted and lambda returns; V-trace, n-step and off-policy
returns).

Times, in one process:

- ``scanwise.gae`` (float64) vs the SB3-style NumPy loop over time (vectorised over envs),
  vs TorchRL's functional GAE on CPU (when installed), and vs the memory floor of "five
  array copies" (five ``np.copyto`` of one [T, N] float64 array);
- ``scanwise.vtrace``, ``n_step_returns`` and ``off_policy_returns`` (float32) beside
  ``gae`` on the same rollout (timed in interleaved rounds: ``timing.best_times``), each
  against a NumPy loop over time written here (vectorised over envs; for the n-step
  returns also the rlax way, n passes vectorised over time), TorchRL's
  ``vtrace_advantage_estimate`` and the copy floor: one ``np.copyto`` of a [T, N] array
  per float array the estimator reads or writes, plus one of a bool array per flag.
  Every scanwise result is checked against the loop (and TorchRL's against the loop)
  before anything is timed.  Peak extra memory of each call (no ``out=``) beyond its
  outputs: NumPy's allocations (``tracemalloc``) and the growth of the peak resident
  set (``VmHWM`` after resetting it, Linux: numba's allocations are invisible to
  ``tracemalloc``).

Every figure is also recorded (``_results.Recorder``, suite ``rl``) into the results
file that ``--record PATH`` or ``$SCANWISE_BENCH_RESULTS`` names (``make bench``).
``--quick`` (or ``SCANWISE_BENCH_QUICK=1``) runs small sizes, to check that the script
works.

Run:  python benchmarks/bench_rl.py [--quick] [--record PATH]
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import gc
import os
import re
import tracemalloc

import numpy as np
from _results import Recorder

import scanwise
from scanwise.timing import best_time, best_times, optional

REC = Recorder("rl")

GAMMA, LAM = 0.99, 0.95
N_STEP = 5  # the n of the n-step returns (R2D2, Ape-X); LONG_N shows the time does not grow
LONG_N = 100
FAST = 7  # best of FAST calls for scanwise and the copies (this shared machine has load
ROUNDS = 3  # bursts), in ROUNDS interleaved rounds where estimators are compared
CLIP_RHO, CLIP_C = 1.0, 1.0


def numpy_loop_gae(r, v, nv, term, done, gamma, lam):
    """The Stable-Baselines3 way: a Python loop over time, vectorised over envs."""
    adv = np.empty_like(r)
    last = np.zeros(r.shape[1])
    not_term = 1.0 - term
    not_done = 1.0 - done
    for t in reversed(range(r.shape[0])):
        delta = r[t] + gamma * nv[t] * not_term[t] - v[t]
        last = delta + gamma * lam * not_done[t] * last
        adv[t] = last
    return adv, adv + v


def numpy_loop_vtrace(r, v, nv, log_rhos, term, done, gamma, lam=1.0, clip_rho=CLIP_RHO,
                      clip_c=CLIP_C, clip_pg_rho=CLIP_RHO):
    """V-trace (Espeholt et al. 2018, eq. 1, rlax's lam mixing): the elementwise parts
    vectorised over the whole rollout, the recursion a loop over time."""
    rho = np.exp(log_rhos)
    rho_bar = np.minimum(clip_rho, rho)
    c = lam * np.minimum(clip_c, rho)
    g_term = gamma * (1.0 - term)
    g_done_c = gamma * (1.0 - done) * c
    delta = rho_bar * (r + g_term * nv - v)
    vs = np.empty_like(r)
    acc = np.zeros(r.shape[1], dtype=r.dtype)
    for t in reversed(range(r.shape[0])):
        acc = delta[t] + g_done_c[t] * acc
        vs[t] = v[t] + acc
    vs_next = np.concatenate([vs[1:], nv[-1:]])
    cut = done.copy()
    cut[-1] = True
    q = np.where(cut, nv, lam * vs_next + (1.0 - lam) * nv)
    pg = np.minimum(clip_pg_rho, rho) * (r + g_term * q - v)
    return vs, pg


def numpy_loop_n_step(r, nv, term, done, gamma, n):
    """n-step returns from their definition: for each t, a loop over the window's steps
    (vectorised over envs), stopping at the first done step or the last step."""
    t_len = r.shape[0]
    out = np.empty_like(r)
    for t in range(t_len):
        acc = np.zeros(r.shape[1], dtype=r.dtype)
        gam = np.ones(r.shape[1], dtype=r.dtype)
        live = np.ones(r.shape[1], dtype=bool)
        for k in range(min(n, t_len - t)):
            j = t + k
            acc = acc + np.where(live, gam * r[j], 0.0)
            gam = gam * gamma
            stop = live & (done[j] | (k == n - 1) | (j == t_len - 1))
            acc = acc + np.where(stop, gam * (1.0 - term[j]) * nv[j], 0.0)
            live = live & ~stop
        out[t] = acc
    return out


def numpy_passes_n_step(r, nv, term, done, gamma, n):
    """The rlax way (``n_step_bootstrapped_returns``): n passes, each vectorised over the
    whole rollout, from the window's last step back to its first; a done step (or the
    last step of the array) ends the window with its one-step target."""
    t_len = r.shape[0]
    pad = np.zeros((n - 1,) + r.shape[1:], dtype=r.dtype)
    stop = done.copy()
    stop[-1] = True
    one_step = np.concatenate([r + gamma * (1.0 - term) * nv, pad])
    rp = np.concatenate([r, pad])
    sp = np.concatenate([stop, pad.astype(bool)])
    h = one_step[n - 1 : n - 1 + t_len]
    for i in reversed(range(n - 1)):
        h = np.where(sp[i : i + t_len], one_step[i : i + t_len], rp[i : i + t_len] + gamma * h)
    return h


def numpy_loop_off_policy(r, nv, nq, traces, term, done, gamma):
    """The general off-policy return (rlax ``general_off_policy_returns_from_q_and_v``,
    per transition): a loop over time; the trace term is dropped at a done step and at
    the last step."""
    out = np.empty_like(r)
    g_term = gamma * (1.0 - term)
    keep = (1.0 - done) * traces
    nxt = np.zeros(r.shape[1], dtype=r.dtype)
    for t in reversed(range(r.shape[0])):
        x = nv[t] if t == r.shape[0] - 1 else nv[t] + keep[t] * (nxt - nq[t])
        nxt = r[t] + g_term[t] * x
        out[t] = nxt
    return out


def rollout(t, n, seed=0):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((t, n)) for _ in range(3))
    term = rng.random((t, n)) < 0.01
    done = term | (rng.random((t, n)) < 0.005)
    return r, v, nv, term, done


def off_policy_rollout(t, n, dtype, seed=1):
    """A rollout with behaviour/target log-ratios and Q-values of the next actions."""
    r, v, nv, term, done = rollout(t, n, seed)
    rng = np.random.default_rng(seed + 1)
    log_rhos = rng.normal(0.0, 0.5, (t, n))  # the clips at 1 are active about half the time
    next_q = nv + 0.3 * rng.standard_normal((t, n))
    traces = LAM * np.minimum(1.0, np.exp(rng.normal(0.0, 0.5, (t, n))))  # Retrace's
    floats = [x.astype(dtype) for x in (r, v, nv, log_rhos, next_q, traces)]
    return (*floats, term, done)


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            m = re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def _reset_peak_rss() -> bool:
    """Reset the peak resident set (VmHWM) to the current one: Linux' ``clear_refs`` 5."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _trim() -> None:
    """Give freed heap memory back to the system, so that a new allocation shows in RSS."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_extra(fn, out_bytes: int, traced: bool = True) -> tuple[float | None, float | None]:
    """MiB beyond ``out_bytes`` that one call of ``fn`` needs at its peak: ``(NumPy's
    allocations by tracemalloc or None, growth of the peak resident set or None)``;
    ``traced=False`` for a call that does not allocate through NumPy (torch)."""
    np_extra = None
    if traced:
        _trim()
        tracemalloc.start()
        res = fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del res
        # (page-granular counts can undershoot the outputs by a page: no extra is 0)
        np_extra = max(0.0, (peak - out_bytes) / 2**20)
    _trim()
    rss = None
    base = _status_kib("VmRSS")
    if base is not None and _reset_peak_rss():
        res = fn()
        peak = _status_kib("VmHWM")
        del res
        if peak is not None:
            rss = max(0.0, ((peak - base) * 1024 - out_bytes) / 2**20)
    return np_extra, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--record", default=None, help="results JSON to merge figures into")
    quick = parser.parse_args().quick or os.environ.get("SCANWISE_BENCH_QUICK") == "1"
    small, large = ((512, 16), (256, 128)) if quick else ((4096, 16), (2048, 1024))
    for t, n in (small, large):
        bench(t, n)
    for t, n in (small, large):
        bench_estimators(t, n, np.float32, long_n=t > 2 * LONG_N)
    REC.save()


def bench(t: int, n: int) -> None:
    gamma, lam = GAMMA, LAM
    case = f"gae T={t} N={n}"
    size = t * n
    r, v, nv, term, done = rollout(t, n)

    def ours(r=r, v=v, nv=nv, term=term, done=done):
        return scanwise.gae(r, v, nv, terminated=term, done=done, discount=gamma, lam=lam)

    a, _ = ours()
    want, _ = numpy_loop_gae(r, v, nv, term, done, gamma, lam)
    assert np.allclose(a, want, rtol=1e-10, atol=1e-10)
    t_sw = best_time(ours, repeat=FAST)
    t_loop = best_time(lambda: numpy_loop_gae(r, v, nv, term, done, gamma, lam), repeat=3)
    buf = np.empty_like(r)
    t_copy5 = 5 * best_time(lambda buf=buf, r=r: np.copyto(buf, r), repeat=FAST)
    outs = (np.empty_like(r), np.empty_like(r))
    t_out = best_time(
        lambda: scanwise.gae(
            r, v, nv, terminated=term, done=done, discount=gamma, lam=lam, out=outs
        ),
        repeat=FAST,
    )
    REC.add(case, "scanwise", t_sw, role="scanwise", size=size, dtype="float64")
    REC.add(case, "numpy loop (SB3)", t_loop, role="peer", size=size)
    REC.add(case, "five np.copyto", t_copy5, role="floor", size=size)
    REC.add(case, "scanwise with out=", t_out, role="variant", size=size)
    print(
        f"gae T={t} N={n}: scanwise {t_sw * 1e3:8.3f} ms | numpy loop {t_loop * 1e3:8.3f} ms "
        f"({t_loop / t_sw:6.1f}x) | five copies {t_copy5 * 1e3:7.3f} ms "
        f"(scanwise / five copies {t_sw / t_copy5:4.2f}x; with out= {t_out * 1e3:7.3f} ms, "
        f"{t_out / t_copy5:4.2f}x)",
        flush=True,
    )
    fn = optional("torchrl.objectives.value.functional")
    if fn is None:
        print("  torchrl not installed: skipped")
        return
    import torch

    def tt(x):
        return torch.from_numpy(np.ascontiguousarray(x.T[..., None]))

    args = (tt(v), tt(nv), tt(r), tt(done), tt(term))
    for name in ("generalized_advantage_estimate", "vec_generalized_advantage_estimate"):
        f = getattr(fn, name)
        try:
            t_rl = best_time(lambda f=f: f(gamma, lam, *args, time_dim=-2), repeat=3)
        except RuntimeError as exc:  # the vectorised variant builds a [T, T] filter
            print(f"  torchrl {name:<36} failed: {str(exc).splitlines()[0][:70]}")
            continue
        REC.add(case, f"torchrl {name}", t_rl, role="peer", size=size)
        print(f"  torchrl {name:<36} {t_rl * 1e3:8.3f} ms ({t_rl / t_sw:6.1f}x scanwise)")
    tr = [torch.from_numpy(x) for x in (r, v, nv, term, done)]

    def ours_torch(tr=tr):
        return scanwise.gae(
            tr[0], tr[1], tr[2], terminated=tr[3], done=tr[4], discount=gamma, lam=lam
        )

    t_torch = best_time(ours_torch, repeat=FAST)
    REC.add(case, "scanwise with torch tensors in/out", t_torch, role="variant", size=size)
    print(f"  scanwise with torch tensors in/out {t_torch * 1e3:8.3f} ms")


def bench_estimators(t: int, n: int, dtype, long_n: bool = True) -> None:
    """vtrace, n_step_returns and off_policy_returns beside gae on one float32 rollout:
    checked against the loops, then timed with their peers and copy floors."""
    gamma = GAMMA
    r, v, nv, log_rhos, nq, traces, term, done = off_policy_rollout(t, n, dtype)
    size, name = t * n, np.dtype(dtype).name
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    kw = {"terminated": term, "done": done, "discount": gamma}
    calls = {
        "gae": lambda: scanwise.gae(r, v, nv, **kw, lam=LAM),
        "vtrace": lambda: scanwise.vtrace(r, v, nv, log_rhos=log_rhos, **kw),
        "n_step_returns": lambda: scanwise.n_step_returns(r, nv, n=N_STEP, **kw),
        "off_policy_returns": lambda: scanwise.off_policy_returns(r, nv, nq, traces=traces,
                                                                  **kw),
    }
    if long_n:
        calls[f"n_step_returns n={LONG_N}"] = lambda: scanwise.n_step_returns(r, nv, n=LONG_N,
                                                                              **kw)
    # the loops, in float64 on the same (float32) numbers
    r64, v64, nv64, lr64, nq64, tr64 = (x.astype(np.float64) for x in (r, v, nv, log_rhos, nq,
                                                                        traces))
    loops = {
        "gae": lambda: numpy_loop_gae(r, v, nv, term, done, gamma, LAM),
        "vtrace": lambda: numpy_loop_vtrace(r, v, nv, log_rhos, term, done, gamma),
        "n_step_returns": lambda: numpy_loop_n_step(r, nv, term, done, gamma, N_STEP),
        "off_policy_returns": lambda: numpy_loop_off_policy(r, nv, nq, traces, term, done,
                                                            gamma),
    }
    want = {
        "gae": numpy_loop_gae(r64, v64, nv64, term, done, gamma, LAM),
        "vtrace": numpy_loop_vtrace(r64, v64, nv64, lr64, term, done, gamma),
        "n_step_returns": numpy_loop_n_step(r64, nv64, term, done, gamma, N_STEP),
        "off_policy_returns": numpy_loop_off_policy(r64, nv64, nq64, tr64, term, done, gamma),
    }
    passes = {N_STEP: lambda: numpy_passes_n_step(r, nv, term, done, gamma, N_STEP)}
    assert np.allclose(numpy_passes_n_step(r64, nv64, term, done, gamma, N_STEP),
                       want["n_step_returns"], rtol=1e-12, atol=1e-12)
    if long_n:
        passes[LONG_N] = lambda: numpy_passes_n_step(r, nv, term, done, gamma, LONG_N)
        want[f"n_step_returns n={LONG_N}"] = numpy_passes_n_step(r64, nv64, term, done, gamma,
                                                                 LONG_N)
    for key, call in calls.items():
        got = call()
        got = got if isinstance(got, tuple) else (got,)
        exp = want[key] if isinstance(want[key], tuple) else (want[key],)
        for g_, w_ in zip(got, exp, strict=True):
            assert g_.dtype == dtype, (key, g_.dtype)
            assert np.allclose(g_, w_, **tol), f"{key} differs from the loop"

    # the copy floors: one copy per float array read or written, one per flag
    fbuf, bbuf = np.empty_like(r), np.empty_like(term)
    arrays = {"gae": 5, "vtrace": 6, "n_step_returns": 3, "off_policy_returns": 5}
    fns = dict(calls)
    fns["copy float"] = lambda: np.copyto(fbuf, r)
    fns["copy flag"] = lambda: np.copyto(bbuf, term)
    keys = list(fns)
    times = dict(zip(keys, best_times([fns[k] for k in keys], [max(1, FAST // ROUNDS + 1)] *
                                      len(keys), rounds=ROUNDS), strict=True))
    t_gae = times["gae"]
    print(f"estimators T={t} N={n} {name} (interleaved rounds; copy of one array "
          f"{times['copy float'] * 1e3:.3f} ms, of one flag {times['copy flag'] * 1e3:.3f} ms)",
          flush=True)
    tl = optional("torchrl.objectives.value.functional")
    torch_rl = None
    if tl is not None:
        import torch

        def tt(x):
            return torch.from_numpy(np.ascontiguousarray(x.T[..., None]))

        targs = (tt(log_rhos), torch.zeros_like(tt(log_rhos)), tt(v), tt(nv), tt(r), tt(done),
                 tt(term))
        torch_rl = functools.partial(tl.vtrace_advantage_estimate, gamma, *targs,
                                     rho_thresh=CLIP_RHO, c_thresh=CLIP_C, time_dim=-2)
        adv_rl, vs_rl = torch_rl()
        vs_w, pg_w = want["vtrace"]  # TorchRL's clip of the advantage is clip_rho's
        assert np.allclose(vs_rl[..., 0].numpy().T, vs_w, **tol), "torchrl vs differs"
        assert np.allclose(adv_rl[..., 0].numpy().T, pg_w, **tol), "torchrl advantage differs"
    for key in calls:
        base = key.split(" ")[0]
        case = f"{key} T={t} N={n} {name}"
        t_sw = times[key]
        n_arr = arrays[base]
        floor = n_arr * times["copy float"] + 2 * times["copy flag"]
        REC.add(case, "scanwise", t_sw, role="scanwise", size=size)
        REC.add(case, f"copy floor ({n_arr} arrays + 2 flags)", floor, role="floor", size=size)
        if key != "gae":
            REC.add(case, "scanwise gae (same rollout)", t_gae, role="variant", size=size)
        line = (f"  {key:<24} scanwise {t_sw * 1e3:8.3f} ms ({t_sw / t_gae:4.2f}x gae) | "
                f"copy floor ({n_arr} arrays + 2 flags) {floor * 1e3:7.3f} ms "
                f"(scanwise / floor {t_sw / floor:4.2f}x)")
        peers = []
        if key in loops:
            peers.append(("numpy loop over time", loops[key], 3))
        if base == "n_step_returns":
            nn = N_STEP if key == base else LONG_N
            peers.append((f"numpy {nn} passes (rlax way)", passes[nn], 3))
        if base == "vtrace" and torch_rl is not None:
            peers.append(("torchrl vtrace_advantage_estimate", torch_rl, 3))
        for peer, fn, rep in peers:
            t_peer = best_time(fn, repeat=rep)
            REC.add(case, peer, t_peer, role="peer", size=size)
            line += f" | {peer} {t_peer * 1e3:8.3f} ms ({t_peer / t_sw:6.1f}x)"
        print(line, flush=True)
    if tl is not None:
        tv = [torch.from_numpy(x) for x in (r, v, nv, log_rhos, term, done)]
        t_tensors = best_time(lambda: scanwise.vtrace(tv[0], tv[1], tv[2], log_rhos=tv[3],
                                                      terminated=tv[4], done=tv[5],
                                                      discount=gamma), repeat=FAST)
        REC.add(f"vtrace T={t} N={n} {name}", "scanwise with torch tensors in/out", t_tensors,
                role="variant", size=size)
        print(f"  vtrace with torch tensors in/out {t_tensors * 1e3:8.3f} ms", flush=True)

    # peak extra memory of one call without out=, beyond its outputs
    one = r.nbytes
    outputs = {"gae": 2, "vtrace": 2, "n_step_returns": 1, "off_policy_returns": 1}
    mem_calls = [(key, calls[key], outputs[key.split(" ")[0]] * one, True) for key in calls]
    if torch_rl is not None:  # torch's allocations are not NumPy's: the resident set only
        mem_calls.append(("torchrl vtrace_advantage_estimate", torch_rl, 2 * one, False))
    for key, call, out_bytes, traced in mem_calls:
        np_extra, rss = peak_extra(call, out_bytes, traced)
        case = f"peak extra memory, {key} T={t} N={n} {name}"
        texts = []
        for what, value in (("numpy allocations (tracemalloc)", np_extra),
                            ("peak resident set growth", rss)):
            if value is not None:
                REC.add(case, what, value, role="info", unit="MiB")
                texts.append(f"{what} {value:8.2f} MiB")
        print(f"  peak extra memory beyond the outputs ({out_bytes / 2**20:.1f} MiB), {key:<34} "
              + (" | ".join(texts) or "not measurable here"), flush=True)


if __name__ == "__main__":
    main()
