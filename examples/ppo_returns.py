"""A PPO rollout buffer processed with scanwise (the Stable-Baselines3 / CleanRL layout).

The buffer is [T, N] (time first, N parallel envs).  Episodes end inside the rollout, some
terminated (no bootstrap) and some truncated by a time limit (bootstrap from the value of
the final observation).  Run: python examples/ppo_returns.py
"""

from __future__ import annotations

import time

import numpy as np

import scanwise


def collect(t: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A fake rollout with the fields a PPO implementation stores."""
    rng = np.random.default_rng(seed)
    rewards = rng.standard_normal((t, n)).astype(np.float32)
    values = rng.standard_normal((t, n)).astype(np.float32)
    # V of the observation reached after each step (for a truncated step: the real final
    # observation, which the env returns in `info["final_observation"]`)
    next_values = np.concatenate([values[1:], rng.standard_normal((1, n)).astype(np.float32)])
    terminated = rng.random((t, n)) < 0.01
    truncated = rng.random((t, n)) < 0.005
    return dict(
        rewards=rewards,
        values=values,
        next_values=next_values,
        terminated=terminated,
        done=terminated | truncated,
    )


def main() -> None:
    buf = collect(2048, 64)
    t0 = time.perf_counter()
    advantages, returns = scanwise.gae(
        buf["rewards"],
        buf["values"],
        buf["next_values"],
        terminated=buf["terminated"],
        done=buf["done"],
        discount=0.99,
        lam=0.95,
    )
    elapsed = time.perf_counter() - t0
    adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    print(f"gae on [2048, 64] float32: {elapsed * 1e3:.2f} ms (first call includes compilation)")
    print(f"advantages {advantages.dtype} {advantages.shape}, normalised std {adv.std():.3f}")
    print(f"value targets: mean {returns.mean():.3f}")
    # Monte-Carlo returns for the same buffer, bootstrapping the unfinished episodes
    mc = scanwise.discounted_returns(
        buf["rewards"], discount=0.99, done=buf["done"], bootstrap=buf["next_values"][-1]
    )
    print(f"discounted returns: first row mean {mc[0].mean():.3f}")


if __name__ == "__main__":
    main()
