"""Discounted RL returns over a rollout that arrives in pieces (streaming with ``initial``).

Run: python examples/streaming_returns.py
"""

from __future__ import annotations

import numpy as np

import scanwise


def main() -> None:
    rng = np.random.default_rng(0)
    rewards = rng.standard_normal((10_000, 8))  # [T, envs]
    gamma = 0.99
    # one call, reverse scan: G[t] = r[t] + gamma * G[t+1]
    whole = scanwise.discounted_cumsum(rewards, gamma, axis=0, reverse=True)
    # the same in two pieces, last piece first, carrying the state through `initial`
    tail = scanwise.discounted_cumsum(rewards[6000:], gamma, axis=0, reverse=True)
    head = scanwise.discounted_cumsum(rewards[:6000], gamma, axis=0, reverse=True, initial=tail[0])
    pieces = np.concatenate([head, tail])
    print("max |one call - two pieces| =", np.max(np.abs(whole - pieces)))
    # forward running totals, restarting at segment boundaries
    starts = np.zeros(rewards.shape, bool)
    starts[::1000] = True
    totals = scanwise.cumsum(rewards, axis=0, reset=starts)
    print("segment totals of env 0:", totals[999::1000, 0].round(2))


if __name__ == "__main__":
    main()
