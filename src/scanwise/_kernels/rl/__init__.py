"""Kernels of the RL estimators: fused GAE, V-trace and off-policy returns
(:mod:`.returns`) and n-step windows (:mod:`.nstep`)."""
