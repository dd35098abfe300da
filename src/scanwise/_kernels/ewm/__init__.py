"""Kernels for exponentially weighted mean, variance, covariance and correlation, one
module per statistic: :mod:`.mean` (also the chunk-parallel mean of long series),
:mod:`.cov` (var, std, cov), :mod:`.corr`, :mod:`.decay` (the decay factors of ``times=``),
and :mod:`.lanes`, the per-lane helpers they share.

The update rules are pandas' (``pandas/_libs/window/aggregations.pyx``: ``ewm`` and
``ewmcov``), written for many series at once.  The mean is the ratio of two linear
recurrences sharing the coefficient ``a[t]`` (see DESIGN.md), ``num[t] = a*num + x`` and
``den[t] = a*den + 1``; like pandas it is carried in normalised form, ``mean = num/den``
and ``old_wt = den``, which keeps the numbers bounded (no underflow across long NaN gaps
or huge time gaps) and rounds exactly like pandas.

Canonical views as everywhere (:mod:`scanwise._layout`): ``x``, ``y``, ``reset`` and
``out`` are ``(outer, T, inner)``.  A task is one outer index and a block of ``block``
neighbouring lanes of ``inner``; its per-lane state lives in small local arrays and the
time loop is outside the lane loop.  With a contiguous inner axis the lane loop
vectorises; with a strided one (time is the fast axis) the lanes are independent
dependency chains in flight together.  Either way each lane is computed in time order by
one thread: results never depend on ``block`` or on the thread count.

``factor[t]`` (1-D, length T) is the decay applied when step ``t`` decays the state:
``1 - alpha`` everywhere, or ``0.5 ** (dt / halflife)`` with ``times``.  ``state`` is ``(F, outer,
inner)`` (fields listed in :mod:`scanwise.ewm.state`), read before the first step and
written after the last.

Per step (one lane), with ``started = mean == mean``:

* ``reset[t]``: the state becomes fresh (``mean = NaN``, weights 1, ``nobs = 0``);
* ``obs = x[t] is not NaN`` (and ``y[t]`` for cov/corr);
* started and (obs or not ignore_na): weights decay, ``old_wt *= factor[t]``;
* started and obs: ``new_wt = 1`` (adjust) or ``alpha`` (or ``1 - old_wt`` when
  ``irregular``); ``mean = (old_wt*mean + new_wt*x)/(old_wt + new_wt)`` unless
  ``mean == x`` (keeps constant series exact); then ``old_wt += new_wt`` (adjust) or
  ``old_wt = 1``;
* not started and obs: ``mean = x``;
* output is NaN while ``nobs < min_periods``.
"""

from .corr import CORR_KERNELS, corr_fast_path
from .cov import COV_KERNELS, cov_fast_path
from .decay import NAT, decay_factors
from .mean import MEAN_KERNELS, ewm_mean_chunked, mean_fast_path

__all__ = [
    "CORR_KERNELS",
    "COV_KERNELS",
    "MEAN_KERNELS",
    "NAT",
    "corr_fast_path",
    "cov_fast_path",
    "decay_factors",
    "ewm_mean_chunked",
    "mean_fast_path",
]
