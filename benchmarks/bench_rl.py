"""RL returns (issue: GAE, discounted and lambda returns).

Times, in one process: scanwise.gae vs the SB3-style NumPy loop over time (vectorised over
envs), vs TorchRL's functional GAE on CPU (when installed), and vs the memory floor of
"five array copies" (five ``np.copyto`` of one [T, N] float64 array).

Run:  python benchmarks/bench_rl.py
"""

from __future__ import annotations

import numpy as np

import scanwise
from scanwise.timing import best_time, optional


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


def rollout(t, n, seed=0):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((t, n)) for _ in range(3))
    term = rng.random((t, n)) < 0.01
    done = term | (rng.random((t, n)) < 0.005)
    return r, v, nv, term, done


GAMMA, LAM = 0.99, 0.95


def main() -> None:
    for t, n in [(4096, 16), (2048, 1024)]:
        bench(t, n)


def bench(t: int, n: int) -> None:
    gamma, lam = GAMMA, LAM
    if True:
        r, v, nv, term, done = rollout(t, n)

        def ours(r=r, v=v, nv=nv, term=term, done=done):
            return scanwise.gae(r, v, nv, terminated=term, done=done, discount=gamma, lam=lam)

        a, _ = ours()
        want, _ = numpy_loop_gae(r, v, nv, term, done, gamma, lam)
        assert np.allclose(a, want, rtol=1e-10, atol=1e-10)
        t_sw = best_time(ours, repeat=7)
        t_loop = best_time(lambda: numpy_loop_gae(r, v, nv, term, done, gamma, lam), repeat=3)
        buf = np.empty_like(r)
        t_copy5 = 5 * best_time(lambda buf=buf, r=r: np.copyto(buf, r), repeat=7)
        outs = (np.empty_like(r), np.empty_like(r))
        t_out = best_time(
            lambda: scanwise.gae(
                r, v, nv, terminated=term, done=done, discount=gamma, lam=lam, out=outs
            ),
            repeat=7,
        )
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
            print(f"  torchrl {name:<36} {t_rl * 1e3:8.3f} ms ({t_rl / t_sw:6.1f}x scanwise)")
        tr = [torch.from_numpy(x) for x in (r, v, nv, term, done)]

        def ours_torch(tr=tr):
            return scanwise.gae(
                tr[0], tr[1], tr[2], terminated=tr[3], done=tr[4], discount=gamma, lam=lam
            )

        print(
            f"  scanwise with torch tensors in/out {best_time(ours_torch, repeat=7) * 1e3:8.3f} ms"
        )


if __name__ == "__main__":
    main()
