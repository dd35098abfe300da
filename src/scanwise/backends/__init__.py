"""Framework backends at the edge of scanwise: the one dispatch point of every public op.

A public function is written for NumPy arrays and numbers only and decorated with
:func:`entry`.  The decorator wraps it in one adapter per backend, in the order of
:data:`ADAPTERS` (outermost first); each adapter recognises its framework's objects
among the arguments, converts them in, calls the NumPy implementation (Dask: builds the
graph from it) and converts the result back.  A call of NumPy arrays and numbers passes
every adapter after one cheap check each.  Below the entry no module asks which
framework a value comes from.

No framework is imported here or by an adapter until one of its objects is seen: a value
is a tensor only if ``torch`` is in ``sys.modules`` (the user imported it), a Dask array
only if ``dask.array`` is, and so on.

* :mod:`.torch` -- ``torch.Tensor`` arguments: the tensor versions of the core scans
  (:mod:`.torch_ops`: ``torch.ops.scanwise.*`` custom ops with autograd), host
  computation for the EWM statistics; :mod:`.tensors` holds the small conversions;
* :mod:`.frames` -- pandas, polars (:mod:`.polars`) and xarray objects: labels in,
  labels out (:mod:`.frames_rl` for the RL estimators' label rules);
* :mod:`.dask` -- Dask arrays: lazy graphs chunked along time (:mod:`.dask_rl` for the
  RL estimators).

A new backend is one module with a ``adapt(fn, op, **options)`` function (return ``fn``
for the ops it does not handle) and one name in :data:`ADAPTERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: adapter modules, outermost first.  Labelled RL inputs are recognised before tensors
#: (a tensor beside a DataFrame is refused, not converted and paired by position);
#: frames before Dask (an xarray object may hold a Dask array: the frames adapter
#: unwraps it and the Dask adapter builds the graph)
ADAPTERS = ("frames_rl", "torch", "frames", "dask_rl", "dask")


def entry(op: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of the public function ``op``: its backends' adapters around it.

    ``options`` go to every adapter's ``adapt`` (e.g. ``template=1``: the argument whose
    labels and type the result takes, ``b`` of ``linear_recurrence``)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        impl = fn
        for name in reversed(ADAPTERS):
            adapter = importlib.import_module(f"{__name__}.{name}")
            impl = adapter.adapt(impl, op, **options)
        return impl

    return decorate
