"""Reference loops written from each library's published algorithm (not from scanwise).

- TorchRL ``generalized_advantage_estimate`` (torchrl/objectives/value/functional.py)
- Stable-Baselines3 ``RolloutBuffer.compute_returns_and_advantage``
- CleanRL ``ppo.py`` advantage loop
- rlax ``truncated_generalized_advantage_estimation``
All take [T, N] NumPy arrays (time first) and loop over time in Python.
"""

from __future__ import annotations

import numpy as np


def torchrl_gae(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    not_done = 1.0 - done.astype(reward.dtype)
    not_terminated = 1.0 - terminated.astype(reward.dtype)
    advantage = np.empty_like(reward)
    prev = 0.0
    for t in reversed(range(reward.shape[0])):
        delta = reward[t] + gamma * next_state_value[t] * not_terminated[t] - state_value[t]
        prev = advantage[t] = delta + gamma * lmbda * not_done[t] * prev
    return advantage, advantage + state_value


def sb3_gae(rewards, values, episode_starts, last_values, dones, gamma, gae_lambda):
    buffer_size = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    last_gae_lam = 0
    for step in reversed(range(buffer_size)):
        if step == buffer_size - 1:
            next_non_terminal = 1.0 - dones.astype(np.float32)
            next_values = last_values
        else:
            next_non_terminal = 1.0 - episode_starts[step + 1]
            next_values = values[step + 1]
        delta = rewards[step] + gamma * next_values * next_non_terminal - values[step]
        last_gae_lam = delta + gamma * gae_lambda * next_non_terminal * last_gae_lam
        advantages[step] = last_gae_lam
    return advantages, advantages + values


def cleanrl_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    num_steps = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages, advantages + values


def rlax_truncated_gae(r_t, discount_t, lambda_, values):
    """values has T+1 entries; the reverse scan acc = delta + discount*lambda*acc."""
    lambda_ = np.ones_like(discount_t) * lambda_
    delta_t = r_t + discount_t * values[1:] - values[:-1]
    acc = np.zeros_like(delta_t[0])
    out = np.empty_like(delta_t)
    for t in reversed(range(delta_t.shape[0])):
        acc = delta_t[t] + discount_t[t] * lambda_[t] * acc
        out[t] = acc
    return out


def discounted_returns(rewards, gamma, done, bootstrap):
    g = np.broadcast_to(np.asarray(bootstrap, dtype=rewards.dtype), rewards.shape[1:]).copy()
    out = np.empty_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        g = rewards[t] + gamma * (1 - done[t]) * g
        out[t] = g
    return out
