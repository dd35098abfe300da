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


# --- estimators of issue 22, written from the papers' formulas ----------------------
# Every rate (g, lam) is a full [T, N] array here (per step); flags are bool [T, N].


def steps_gae(r, v, nv, term, done, g, lam):
    """GAE (Schulman et al. 2016) with per-step discount and lambda, TorchRL's flags."""
    adv = np.empty_like(r)
    prev = np.zeros(r.shape[1:])
    for t in reversed(range(r.shape[0])):
        delta = r[t] + g[t] * np.where(term[t], 0.0, nv[t]) - v[t]
        prev = adv[t] = delta + g[t] * lam[t] * np.where(done[t], 0.0, prev)
    return adv, adv + v


def vtrace(lr, r, v, nv, term, done, g, lam, clip_rho, clip_c, clip_pg):
    """IMPALA eq. 1 as a backward recursion, rlax's lambda mixing for the pg target."""
    inf = np.inf
    rho = np.exp(lr)
    rho_bar = np.minimum(inf if clip_rho is None else clip_rho, rho)
    c = lam * np.minimum(inf if clip_c is None else clip_c, rho)
    pg_rho = np.minimum(inf if clip_pg is None else clip_pg, rho)
    T = r.shape[0]
    vs = np.empty_like(r)
    corr_next = np.zeros(r.shape[1:])
    for t in reversed(range(T)):
        nv_t = np.where(term[t], 0.0, nv[t])
        delta = rho_bar[t] * (r[t] + g[t] * nv_t - v[t])
        cont = 0.0 if t == T - 1 else np.where(done[t], 0.0, 1.0)
        corr = delta + g[t] * cont * c[t] * corr_next
        vs[t] = v[t] + corr
        corr_next = corr
    pg = np.empty_like(r)
    for t in range(T):
        if t == T - 1:
            q = nv[t]
        else:
            q = np.where(done[t], nv[t], lam[t] * vs[t + 1] + (1 - lam[t]) * nv[t])
        pg[t] = pg_rho[t] * (r[t] + g[t] * np.where(term[t], 0.0, q) - v[t])
    return vs, pg


def impala_ground_truth(discounts, log_rhos, rewards, values, bootstrap_value, clip_rho,
                        clip_pg_rho):
    """The explicit sum of IMPALA eq. 1 (as scalable_agent's vtrace_test.py writes it,
    with the product of c over s..t-1, i.e. ``cs[s:t]``)::

        v_s = V(x_s) + sum_{t>=s} gamma^{t-s} (prod_{i=s}^{t-1} c_i) rho_t
                                  (r_t + gamma V(x_{t+1}) - V(x_t))
    """
    rhos = np.exp(log_rhos)
    cs = np.minimum(rhos, 1.0)
    clipped_rhos = rhos if clip_rho is None else np.minimum(rhos, clip_rho)
    clipped_pg = rhos if clip_pg_rho is None else np.minimum(rhos, clip_pg_rho)
    nxt = np.concatenate([values, bootstrap_value[None]], axis=0)
    T = len(discounts)
    vs = []
    for s in range(T):
        v_s = np.copy(values[s])
        for t in range(s, T):
            v_s += (np.prod(discounts[s:t], axis=0) * np.prod(cs[s:t], axis=0)
                    * clipped_rhos[t] * (rewards[t] + discounts[t] * nxt[t + 1] - values[t]))
        vs.append(v_s)
    vs = np.stack(vs)
    pg = clipped_pg * (rewards + discounts * np.concatenate([vs[1:], bootstrap_value[None]])
                       - values)
    return vs, pg


def n_step(r, nv, n, term, done, g):
    """The sum of the definition: G[t] = sum_{k<m} Gamma_k r[t+k] + Gamma_m (1 -
    terminated[t+m-1]) nv[t+m-1], m <= n stopping at the first done step or the end."""
    T = r.shape[0]
    out = np.empty_like(r)
    for t in range(T):
        for i in range(r.shape[1]):
            total, gamma = 0.0, 1.0
            for k in range(n):
                j = t + k
                total += gamma * r[j, i]
                gamma *= g[j, i]
                if k == n - 1 or done[j, i] or j == T - 1:
                    total += gamma * (0.0 if term[j, i] else nv[j, i])
                    break
            out[t, i] = total
    return out


def off_policy(r, nv, nq, c, term, done, g):
    """rlax general_off_policy_returns_from_q_and_v in per-transition form, per series
    cut at done steps: the last step of a piece bootstraps from ``nv`` only."""
    T = r.shape[0]
    out = np.empty_like(r)
    G = np.zeros(r.shape[1:])
    for t in reversed(range(T)):
        last = done[t] if t < T - 1 else np.ones(r.shape[1:], bool)
        trace = np.where(last, 0.0, c[t] * (G - nq[t]))
        G = r[t] + g[t] * np.where(term[t], 0.0, nv[t] + trace)
        out[t] = G
    return out


def discounted(r, g, done, bootstrap):
    """discounted_returns with a per-step discount."""
    G = np.broadcast_to(np.asarray(bootstrap, float), r.shape[1:]).copy()
    out = np.empty_like(r)
    for t in reversed(range(r.shape[0])):
        G = r[t] + g[t] * np.where(done[t], 0.0, G)
        out[t] = G
    return out


def skipping(fn, valid, arrays, after=0.0, zero=()):
    """``valid`` by its definition: each series' valid steps computed on their own (the
    subsequence), a skipped step repeating the next valid step's outputs (``after`` past
    the last one; outputs listed in ``zero`` are 0 at skipped steps).  ``fn`` takes and
    returns [T, N] arrays (``arrays``: the per-step inputs, flags and rates)."""
    T, N = valid.shape
    first = fn(*arrays)
    outs = [np.empty((T, N)) for _ in (first if isinstance(first, tuple) else (first,))]
    for i in range(N):
        keep = np.flatnonzero(valid[:, i])
        if keep.size:
            res = fn(*(a[keep, i : i + 1] for a in arrays))
            res = res if isinstance(res, tuple) else (res,)
        for k, o in enumerate(outs):
            cur = np.broadcast_to(after, (N,))[i] if k not in zero else 0.0
            pos = len(keep)
            for t in reversed(range(T)):
                if valid[t, i]:
                    pos -= 1
                    o[t, i] = res[k][pos, 0]
                    if k not in zero:
                        cur = o[t, i]
                else:
                    o[t, i] = cur if k not in zero else 0.0
    return tuple(outs) if isinstance(first, tuple) else outs[0]
