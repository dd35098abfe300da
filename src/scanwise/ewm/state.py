"""The streaming state of the EWM family: what one call hands to the next."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: State fields per kind, in kernel order (see :mod:`scanwise._kernels.ewm`).
FIELDS: dict[str, tuple[str, ...]] = {
    "mean": ("mean", "old_wt", "nobs"),
    "cov": ("mean_x", "mean_y", "cov", "sum_wt", "sum_wt2", "old_wt", "nobs"),
    "corr": ("mean_x", "mean_y", "cov", "var_x", "var_y", "old_wt", "nobs"),
}
_FRESH = {
    "mean": (np.nan, 1.0, 0.0),
    "cov": (np.nan, np.nan, 0.0, 1.0, 1.0, 1.0, 0.0),
    "corr": (np.nan, np.nan, 0.0, 0.0, 0.0, 1.0, 0.0),
}

_FRESH_COLUMNS = {kind: np.array(vals)[:, None] for kind, vals in _FRESH.items()}


@dataclass(frozen=True, eq=False)
class EWMState:
    """Where an EWM scan stopped, per series; pass it as ``state=`` to continue.

    Continuing with ``state=`` gives exactly the result of one call over the
    concatenated data (NaN gaps, ``min_periods`` counts and ``adjust=False``
    renormalisation included).  Picklable; ``shape`` is the input's shape without the
    time axis.

    Attributes:
        kind: ``"mean"`` (ewm_mean), ``"cov"`` (ewm_var / ewm_std / ewm_cov) or
            ``"corr"`` (ewm_corr).
        data: float64 array ``(len(fields), *shape)``; ``state["mean"]`` etc. read one
            field: the weighted mean(s) (NaN before the first observation), pandas'
            ``old_wt`` (the summed weight of the past, renormalised to 1 after each
            observation when ``adjust=False``), ``sum_wt``/``sum_wt2`` (for the unbiased
            correction), running ``cov``/``var_x``/``var_y`` and ``nobs``, the number of
            observations seen (for ``min_periods``).
        last_time: the last ``times`` value seen (float64; datetimes as int64 ticks),
            or None when the scan had no ``times``.
        config: the decay settings the state belongs to; continuing with other settings
            raises ``ValueError``.
        given: those settings as the call that made the state spelled them (e.g.
            ``"span=14, adjust=True, ignore_na=False"``), for error messages.
        labels: the column labels of the DataFrame (pandas or polars) that made the
            state, or ``("dims", ...)`` with the DataArray's other dims and coords; None
            for arrays.  A labelled state continues a frame by label: the same columns
            in another order are paired by name, other columns are refused.

    Example:
        >>> import numpy as np, scanwise
        >>> x = np.array([1.0, np.nan, 3.0, 4.0, np.nan, 6.0])
        >>> head, st = scanwise.ewm_mean(x[:3], alpha=0.5, return_state=True)
        >>> st.kind, st.given
        ('mean', 'alpha=0.5, adjust=True, ignore_na=False')
        >>> tail = scanwise.ewm_mean(x[3:], alpha=0.5, state=st)
        >>> bool(np.allclose(np.r_[head, tail], scanwise.ewm_mean(x, alpha=0.5)))
        True
    """

    kind: str
    data: np.ndarray
    last_time: float | None
    config: tuple[Any, ...]
    given: str = ""
    labels: tuple[Any, ...] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return FIELDS[self.kind]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape[1:]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[self.fields.index(name)]

    def __repr__(self) -> str:
        return (
            f"EWMState(kind={self.kind!r}, shape={self.shape}, last_time={self.last_time!r}, "
            f"config={self.config!r}"
            + ("" if self.labels is None else f", labels={self.labels!r}")
            + ")"
        )


def labelled(state: Any, labels: tuple[Any, ...] | None) -> Any:
    """``state`` (an :class:`EWMState`, else returned as is) marked with ``labels``."""
    if not isinstance(state, EWMState) or labels is None:
        return state
    return dataclasses.replace(state, labels=labels)


def for_columns(state: Any, columns: tuple[Any, ...]) -> Any:
    """A labelled ``state=`` paired with the DataFrame columns ``columns`` by label.

    Returns the state reordered to ``columns`` (the same labels in another order), the
    state itself when it has no labels (made from an array: paired by position) or the
    same ones; raises ``ValueError`` when the labels differ."""
    if not isinstance(state, EWMState) or state.labels is None or state.labels == columns:
        return state
    have = state.labels
    if (
        have[:1] != ("dims",) and len(set(have)) == len(have) == len(columns)
        and set(have) == set(columns) and state.data.ndim == 2
    ):
        where = {label: k for k, label in enumerate(have)}
        order = [where[c] for c in columns]
        return dataclasses.replace(state, data=state.data[:, order], labels=columns)
    raise ValueError(
        f"state was made from columns {_few(have)}, but the input has columns "
        f"{_few(columns)}: a state continues the same series, so select those columns "
        "(in any order) or start a new stream without state="
    )


def for_dims(state: Any, labels: tuple[Any, ...]) -> Any:
    """A labelled ``state=`` for a DataArray whose other dims and coords are ``labels``."""
    if not isinstance(state, EWMState) or state.labels is None or state.labels == labels:
        return state
    raise ValueError(
        "state was made from a DataArray with other dims/coords than this input's "
        f"({_few(state.labels)} vs {_few(labels)}): transpose or select the input to match"
    )


def _few(labels: tuple[Any, ...]) -> str:
    shown = ", ".join(repr(x) for x in labels[:6])
    return f"[{shown}{', ...' if len(labels) > 6 else ''}]"


def fresh(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    """State data of series that have seen nothing yet (a new array)."""
    if math.prod(shape) <= 64:  # a copy of a cached template: small calls
        return _small_fresh(kind, tuple(shape)).copy()
    return _fresh(kind, shape)


def _fresh(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    vals = _FRESH_COLUMNS[kind]
    data = np.empty((vals.shape[0], *shape))
    data.reshape(vals.shape[0], math.prod(shape))[...] = vals  # one broadcast, not F
    return data


@functools.lru_cache(maxsize=64)
def _small_fresh(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    data = _fresh(kind, shape)
    data.flags.writeable = False
    return data


def check(
    state: Any, kind: str, shape: tuple[int, ...], config: tuple[Any, ...], given: str = ""
) -> EWMState:
    """A user ``state=``: an :class:`EWMState` of this op, shape and configuration.

    ``given`` is this call's settings as the user spelled them (see :func:`spelled`):
    a mismatch is reported in the user's terms (``span=28`` rather than ``com 13.5``)."""
    if not isinstance(state, EWMState):
        raise TypeError(
            f"state must be an EWMState returned with return_state=True, got "
            f"{type(state).__name__}"
        )
    if state.kind != kind:
        raise ValueError(f"state comes from an ewm {state.kind} scan, not {kind}")
    if state.shape != shape:
        raise ValueError(
            f"state has shape {state.shape}, expected {shape} (the input without the time axis)"
        )
    if state.config != config:
        before = state.given or _internal(state.config)
        now = given or _internal(config)
        raise ValueError(
            f"state was computed with {before}, but this call uses {now}; continue a "
            "stream with the settings that started it"
        )
    return state


def _internal(config: tuple[Any, ...]) -> str:
    return ", ".join(f"{n}={v!r}" for n, v in zip(CONFIG_NAMES, config, strict=True))


def spelled(decay: dict[str, Any], times_unit: str | None, adjust: bool, ignore_na: bool) -> str:
    """The decay settings as the user gave them, e.g. ``"span=14, adjust=True, ..."``."""
    parts = [f"{n}={v!r}" for n, v in decay.items() if v is not None]
    if times_unit is not None:
        parts.append(f"times in units of {times_unit!r}")
    return ", ".join([*parts, f"adjust={adjust}", f"ignore_na={ignore_na}"])


CONFIG_NAMES = ("com", "halflife", "times", "adjust", "ignore_na")
