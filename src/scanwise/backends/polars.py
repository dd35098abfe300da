"""polars: eager Series/DataFrames in the plain functions, and the ``.scanwise`` namespace.

Eager objects
-------------
``scanwise.cumsum(df)``, ``scanwise.ewm_mean(series, span=10)``: time runs along the rows,
the result is the same polars type with the same names.  ``times=`` may name a column of
the DataFrame (``scanwise.ewm_mean(df, halflife="1h", times="t")``): that column gives the
times, is not scanned itself and comes back unchanged in the result, where it was.
``reset=``, ``initial=`` and ``times=`` may also be polars Series.

Expressions (lazy frames, ``.over()``)
--------------------------------------
``pl.col("x").scanwise.<op>(...)`` for :func:`~scanwise.cumsum`,
:func:`~scanwise.cumprod`, :func:`~scanwise.logcumsumexp`,
:func:`~scanwise.discounted_cumsum`, :func:`~scanwise.linear_recurrence` and the EWM
statistics, in ``select``/``with_columns`` on DataFrames and LazyFrames::

    df.with_columns(pl.col("price").scanwise.ewm_var(halflife=20).over("ticker"))
    lf.select(pl.col("r").scanwise.discounted_cumsum(0.99, reverse=True, reset="done"))
    lf.select(pl.col("x").scanwise.ewm_cov("y", halflife="2h", times="t").over("id"))

Arguments that are series (``discount``, ``a``, the other series of ``ewm_cov``/
``ewm_corr``, ``reset``, ``times``) are expressions or column names; ``discount`` and ``a``
may also be numbers; ``initial`` is a number.  Each is a scan along the whole column, or
along each group under ``.over(group)`` (the expression is not elementwise, so polars
hands it every group whole, also on the streaming engine).  The output dtype is the
plain function's for the input dtypes (float32 stays float32; integers give float64 for
the EWM family, Int64 for ``cumsum``), fixed at plan time so LazyFrame schemas are right.
Results are NaN where the plain functions give NaN (polars' own ``ewm_mean`` gives null
there).  polars 1.x has no ``pipe_with_dtype`` to learn input dtypes at plan time: there
every result is Float64 and an expression must name one column.

Registering the namespace
-------------------------
``import scanwise`` registers it when polars is already imported (scanwise never imports
polars itself).  Where polars may come after scanwise, ``import scanwise.polars``, which
imports polars and registers it, in either order (registering twice does nothing).  An
explicit import was chosen over hooks: a meta-path finder would run on every import of
the process, and a check at the first scanwise call comes too late, since expressions
are built before anything runs.

Column dtypes
-------------
Numbers and booleans are scanned; every other column is refused with a ``TypeError``
naming it, like non-numeric pandas columns (nothing is skipped silently):

* Float16/32/64, Int8-64, UInt8-64, Boolean: as NumPy.  Nulls become NaN: a float column
  keeps its dtype; an integer or Boolean column with nulls becomes float64 (as pandas'
  nullable ``Int64``/``boolean``).  An all-null (``Null``) column is float64 NaN.  In
  the namespace an integer-valued result (``cumsum`` of an Int64 column) cannot hold
  NaN: nulls there raise ``ValueError`` (``fill_null`` or cast to Float64 first).
* Datetime, Date, Time, Duration: refused, not scanned as their integer encoding.  A
  Datetime or Date column is what the EWM functions take as ``times=``.
* Decimal (exact numbers: a float scan would silently round them), Int128/UInt128 (no
  NumPy dtype), Categorical/Enum (codes are not quantities), String, Binary, List,
  Array, Struct, Object: refused; cast or select the numeric columns first.

A LazyFrame or an expression given to a plain function raises ``TypeError`` pointing to
the namespace.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

_REGISTERED = False


def register() -> None:
    """Register ``pl.Expr.scanwise`` (imports polars; idempotent)."""
    global _REGISTERED
    import polars as pl

    if not _REGISTERED:
        pl.api.register_expr_namespace("scanwise")(ScanwiseExpr)
        _REGISTERED = True


# --------------------------------------------------------------------- dtypes


def _numpy_dtype(dtype: Any, what: str) -> np.dtype:
    """The NumPy dtype scanwise computes a null-free column of ``dtype`` in, else
    ``TypeError`` naming ``what``."""
    pl = sys.modules["polars"]
    base = dtype.base_type()
    table = {
        pl.Int8: np.int8, pl.Int16: np.int16, pl.Int32: np.int32, pl.Int64: np.int64,
        pl.UInt8: np.uint8, pl.UInt16: np.uint16, pl.UInt32: np.uint32,
        pl.UInt64: np.uint64, pl.Float32: np.float32, pl.Float64: np.float64,
        pl.Boolean: np.bool_, pl.Null: np.float64,
    }
    if hasattr(pl, "Float16"):
        table[pl.Float16] = np.float16
    if base in table:
        return np.dtype(table[base])
    raise TypeError(_refusal(dtype, what))


def _refusal(dtype: Any, what: str) -> str:
    pl = sys.modules["polars"]
    base = dtype.base_type()
    head = f"{what} has dtype {dtype}; scanwise scans numeric and Boolean columns only"
    if base in (pl.Datetime, pl.Date):
        hint = (
            "it is not scanned as its integer encoding: pass a datetime column as the EWM "
            "functions' times= (e.g. times='t'), or select the numeric columns first "
            "(df.select(polars.selectors.numeric()))"
        )
    elif base is pl.Duration:
        hint = "convert it to a number of units first (e.g. .dt.total_seconds())"
    elif base is pl.Time:
        hint = "select the numeric columns first (df.select(polars.selectors.numeric()))"
    elif base is pl.Decimal:
        hint = "a float scan would round its exact values: cast it to pl.Float64 if you mean that"
    elif base in (getattr(pl, "Int128", None), getattr(pl, "UInt128", None)):
        hint = "it has no NumPy dtype: cast it to pl.Int64 or pl.Float64"
    elif base in (pl.Categorical, pl.Enum):
        hint = "its category codes are not quantities (.to_physical() if you mean them)"
    elif base in (pl.List, pl.Array, pl.Struct):
        hint = "it is nested: explode or unnest it and scan the numeric fields"
    else:
        hint = "select the numeric columns first (df.select(polars.selectors.numeric()))"
    return f"{head}: {hint}"


def _polars_dtype(dtype: np.dtype) -> Any:
    pl = sys.modules["polars"]
    table = {
        "int8": pl.Int8, "int16": pl.Int16, "int32": pl.Int32, "int64": pl.Int64,
        "uint8": pl.UInt8, "uint16": pl.UInt16, "uint32": pl.UInt32, "uint64": pl.UInt64,
        "float32": pl.Float32, "float64": pl.Float64, "bool": pl.Boolean,
    }
    if hasattr(pl, "Float16"):
        table["float16"] = pl.Float16
    return table[np.dtype(dtype).name]


def _times_dtype(dtype: Any, what: str) -> np.dtype:
    """The NumPy dtype a ``times`` column of ``dtype`` arrives in."""
    pl = sys.modules["polars"]
    base = dtype.base_type()
    if base is pl.Datetime:
        return np.dtype(f"datetime64[{dtype.time_unit or 'us'}]")
    if base is pl.Date:
        return np.dtype("datetime64[D]")
    if dtype.is_integer() or dtype.is_float():
        return np.dtype(np.float64)
    raise TypeError(f"{what} must be a Datetime, Date or numeric column, got dtype {dtype}")


def _check_flags_dtype(dtype: Any, what: str) -> None:
    pl = sys.modules["polars"]
    if not (dtype.base_type() is pl.Boolean or dtype.is_integer()):
        raise TypeError(f"{what} must be a Boolean (or 0/1 integer) column, got dtype {dtype}")


# ----------------------------------------------------------------- conversions


def column_values(s: Any, what: str) -> np.ndarray:
    """One polars Series as a NumPy array (nulls -> NaN, see the module doc)."""
    pl = sys.modules["polars"]
    dt = _numpy_dtype(s.dtype, what)
    if s.dtype == pl.Null:
        return np.full(len(s), np.nan)
    if dt.kind in "biu" and s.null_count():
        return s.cast(pl.Float64).to_numpy()
    arr = np.asarray(s.to_numpy())
    return arr if arr.dtype == dt else arr.astype(dt)


def _describe(s: Any, name: str) -> str:
    return f"{name} (polars Series {s.name!r})" if s.name else name


def to_numpy(obj: Any, name: str = "x") -> np.ndarray:
    """A polars Series (1-D) or DataFrame (2-D, time along the rows) as NumPy values."""
    pl = sys.modules["polars"]
    if isinstance(obj, pl.Series):
        return column_values(obj, _describe(obj, name))
    schema = obj.schema
    dtypes = list(schema.values())
    for col, dt in schema.items():
        _numpy_dtype(dt, f"{name} (column {col!r})")  # refuse before converting anything
    if dtypes and all(d == dtypes[0] for d in dtypes) and not any(obj.null_count().row(0)):
        if dtypes[0] != pl.Null:
            return np.asarray(obj.to_numpy())  # one dtype, no nulls: polars' own conversion
    cols = [column_values(obj.to_series(k), f"{name} (column {c!r})")
            for k, c in enumerate(obj.columns)]
    if not cols:
        return np.empty((obj.height, 0))
    out = np.empty((obj.height, len(cols)), dtype=np.result_type(*cols))
    for k, c in enumerate(cols):
        out[:, k] = c
    return out


def times(value: Any, what: str = "times") -> np.ndarray:
    """A polars ``times`` Series (or one-column DataFrame) as datetime64 or numbers."""
    pl = sys.modules["polars"]
    if isinstance(value, pl.DataFrame):
        if value.width != 1:
            raise ValueError(f"{what} must be one column, got a DataFrame of {value.width}")
        value = value.to_series(0)
    what = _describe(value, what)
    want = _times_dtype(value.dtype, what)
    if want.kind == "M":
        return np.asarray(value.to_numpy())  # time zones: polars gives UTC; nulls: NaT
    return column_values(value, what)


def flags(value: Any, what: str = "reset") -> np.ndarray:
    """A polars Boolean (or 0/1) Series as a NumPy array; nulls are refused."""
    pl = sys.modules["polars"]
    if isinstance(value, pl.DataFrame):
        return np.column_stack([flags(value.to_series(k), f"{what} (column {c!r})")
                                for k, c in enumerate(value.columns)])
    what = _describe(value, what)
    _check_flags_dtype(value.dtype, what)
    if value.null_count():
        raise ValueError(f"{what} has nulls; fill them first (e.g. .fill_null(False))")
    return np.asarray(value.to_numpy())


def wrap(values: np.ndarray, like: Any, keep: tuple[int, Any] | None = None) -> Any:
    """``values`` as a polars object of ``like``'s type and names; ``keep`` is a column
    (position, Series) put back unchanged (``times`` given by name)."""
    pl = sys.modules["polars"]
    if isinstance(like, pl.Series):
        return pl.Series(like.name, values)
    cols = [pl.Series(name, values[:, k]) for k, name in enumerate(like.columns)]
    if keep is not None:
        cols.insert(keep[0], keep[1])
    return pl.DataFrame(cols)


# ------------------------------------------------------ plain functions (eager)


def _is_frame(obj: Any) -> bool:
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(obj, (pl.Series, pl.DataFrame)):
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, (pd.Series, pd.DataFrame))


def _like(args: tuple[Any, ...], template: int) -> Any:
    if template < len(args) and _is_frame(args[template]):
        return args[template]
    return next((a for a in args if _is_frame(a)), None)


def takes(args: tuple[Any, ...], kwargs: dict[str, Any], template: int = 0) -> bool:
    """Whether :func:`call` handles this call: an eager polars object sets the result's
    type, or a LazyFrame/expression is passed (to be refused)."""
    pl = sys.modules.get("polars")
    if pl is None:
        return False
    lazy = (pl.LazyFrame, pl.Expr)
    if any(isinstance(a, lazy) for a in args) or any(
        isinstance(val, lazy) for val in kwargs.values()
    ):
        return True
    return isinstance(_like(args, template), (pl.Series, pl.DataFrame))


def _refuse_lazy(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    pl = sys.modules["polars"]
    op = fn.__name__
    for value in (*args, *kwargs.values()):
        if isinstance(value, pl.LazyFrame):
            raise TypeError(
                f"scanwise.{op} takes eager polars objects, not a LazyFrame; in a lazy "
                f"query use the expression namespace: lf.with_columns(pl.col(...)."
                f"scanwise.{op}(...)) (registered by `import scanwise.polars`)"
            )
        if isinstance(value, pl.Expr):
            raise TypeError(
                f"scanwise.{op} got a polars expression; write pl.col(...).scanwise.{op}(...) "
                "instead (the expression namespace, registered by `import scanwise.polars`)"
            )


def call(
    fn: Callable[..., Any], template: int, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run ``fn`` (a plain scanwise function) on polars inputs; the result is polars."""
    pl = sys.modules["polars"]
    _refuse_lazy(fn, args, kwargs)
    like = _like(args, template)
    kind = type(like).__name__
    if kwargs.get("axis") not in (None, 0):
        raise ValueError(
            f"axis must be None or 0 for {kind} input (time runs along the rows), "
            f"got {kwargs['axis']!r}"
        )
    if kwargs.get("include_initial"):
        raise ValueError(f"include_initial=True does not fit a {kind}'s rows; pass a NumPy array")
    if kwargs.get("out") is not None:
        raise ValueError(f"out= is for NumPy arrays, not {kind} input")
    if kwargs.get("dim") is not None:
        raise ValueError("dim= is for xarray inputs; use axis= for arrays")
    kwargs = {k: val for k, val in kwargs.items() if k not in ("axis", "dim")}
    names = [p.name for p in inspect.signature(fn).parameters.values()
             if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    keep = None
    frames = list(args)
    if isinstance(kwargs.get("times"), str):
        col = kwargs["times"]
        if not isinstance(like, pl.DataFrame):
            raise TypeError(f"times={col!r} names a column, which needs a DataFrame, not a {kind}")
        if col not in like.columns:
            raise ValueError(f"times={col!r} is not a column of the input {like.columns}")
        keep = (like.columns.index(col), like[col])
        kwargs["times"] = times(like[col], f"times (column {col!r})")
        at = next(k for k, a in enumerate(args) if a is like)
        frames = [a.drop(col) if isinstance(a, pl.DataFrame) and col in a.columns else a
                  for a in frames]
        like = frames[at]
    two_d = len(like.shape) == 2
    arrays = []
    for k, a in enumerate(frames):
        name = names[k] if k < len(names) else f"argument {k}"
        if isinstance(a, (pl.Series, pl.DataFrame)):
            a = to_numpy(a, name)
        elif _is_frame(a):  # a pandas object beside polars ones
            a = np.asarray(a.to_numpy())
        if two_d and isinstance(a, np.ndarray) and a.ndim == 1 and _is_frame(args[k]):
            a = a[:, None]  # a Series beside a DataFrame: one value per row
        arrays.append(a)
    kw: dict[str, Any] = {}
    for name, val in kwargs.items():
        if name == "times" and isinstance(val, (pl.Series, pl.DataFrame)):
            val = times(val)
        elif name in ("reset", "valid") and isinstance(val, (pl.Series, pl.DataFrame)):
            val = flags(val, name)
        elif isinstance(val, (pl.Series, pl.DataFrame)):
            val = to_numpy(val, name)
        if name in ("reset", "valid") and two_d and val is not None:
            arr = np.asarray(val)
            if arr.ndim == 1 and arr.shape[0] == like.shape[0]:
                val = arr[:, None]  # one flag per row
        kw[name] = val
    columns = tuple(like.columns) if two_d else None
    if columns is not None and kw.get("state") is not None:
        kw["state"] = _state().for_columns(kw["state"], columns)
    result = fn(*arrays, axis=0, **kw)
    if isinstance(result, tuple):  # (values, state): the state remembers the columns
        return (wrap(result[0], like, keep), _state().labelled(result[1], columns))
    return wrap(result, like, keep)


# --------------------------------------------------------- expression namespace


def _as_expr(value: Any, name: str) -> Any:
    pl = sys.modules["polars"]
    if isinstance(value, str):
        return pl.col(value)
    if isinstance(value, pl.Expr):
        return value
    raise TypeError(f"{name} must be a polars expression or a column name, got {value!r}")


def _number_or_expr(value: Any, name: str) -> tuple[str, Any]:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, an expression or a column name, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "value", value
    pl = sys.modules["polars"]
    if not isinstance(value, (str, pl.Expr)):
        raise TypeError(f"{name} must be a number, an expression or a column name, got {value!r}")
    return "expr", _as_expr(value, name)


def _initial(value: Any, name: str = "initial") -> Any:
    if value is None or (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
    ):
        return value
    raise TypeError(f"{name} must be a number (one state for every series), got {value!r}")


def _output_name(expr: Any) -> str:
    try:
        return str(expr.meta.output_name())
    except Exception:  # no single name (e.g. a literal): describe it by its repr
        return repr(expr)


def _build(
    op: str,
    slots: list[tuple[str, str, Any]],
    static: dict[str, Any],
    self_role: str,
) -> Any:
    """The expression running ``scanwise.<op>`` over its inputs.

    ``slots`` lists the positional operands in the function's order as ``(role, "expr" |
    "value", value)``, then keyword series (roles ``reset``, ``times``); ``self_role`` is
    the operand the namespace was called on, which goes first so that the result keeps
    its name.
    """
    pl = sys.modules["polars"]
    import scanwise

    fn = getattr(scanwise, op)
    series = [s for s in slots if s[1] == "expr"]
    series.sort(key=lambda s: s[0] != self_role)  # self first: the output's name
    order = [role for role, _, _ in series]
    exprs = [e for _, _, e in series]

    def inputs(arrays: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        pos, kw = [], dict(static)
        for role, kind, value in slots:
            val = arrays[role] if kind == "expr" else value
            if role in ("reset", "times"):
                kw[role] = val
            else:
                pos.append(val)
        return pos, kw

    def probe(dtypes: list[Any], names: list[str]) -> np.dtype:
        """The result dtype, from the plain function on empty inputs (this checks every
        argument at plan time, too)."""
        arrays = {}
        for role, dt, nm in zip(order, dtypes, names, strict=True):
            what = f"{role} ({nm!r})"
            if role == "times":
                arrays[role] = np.zeros(0, _times_dtype(dt, what))
            elif role == "reset":
                _check_flags_dtype(dt, what)
                arrays[role] = np.zeros(0, np.bool_)
            else:
                arrays[role] = np.zeros(0, _numpy_dtype(dt, what))
        pos, kw = inputs(arrays)
        return np.asarray(fn(*pos, **kw)).dtype

    def combined(resolved: list[Any]) -> Any:
        """One expression of all inputs: a struct (self first and unaliased, so the
        struct, and the result, keep its name).  ``pl.map_batches`` over several
        expressions would be simpler, but polars 1.x ignores ``.over()`` there."""
        if len(resolved) == 1:
            return resolved[0]
        others = [e.alias(f"__scanwise_{r}") for r, e in zip(order[1:], resolved[1:], strict=True)]
        if "reset" in order:
            # the struct broadcasts a literal or a length-1 reset to every row; its own
            # length, carried alongside, lets the udf refuse that as the arrays do
            others.append(resolved[order.index("reset")].len().alias("__scanwise_reset_len"))
        return pl.struct(resolved[0], *others)

    def udf(s: Any, ret: Any) -> Any:
        if len(order) == 1:
            cols = [s]
        else:
            frame = s.struct.unnest()
            cols = [frame.to_series(k) for k in range(frame.width)]
            if "reset" in order:
                n_reset = cols.pop()
                if len(n_reset) and n_reset[0] != len(n_reset):
                    raise ValueError(
                        f"scanwise.{op}: reset has {n_reset[0]} row(s) where the input has "
                        f"{len(n_reset)}: flags mark steps, so give reset one flag per row "
                        "(a literal or an aggregate would be repeated at every step)"
                    )
        if len(cols) != len(order):
            raise ValueError(
                f"scanwise.{op}: expected {len(order)} input columns, got {len(cols)} (with "
                "polars < 2, give each operand as one column, not a selector)"
            )
        arrays = {}
        for k, (role, col) in enumerate(zip(order, cols, strict=True)):
            what = _describe(col, role) if k == 0 else role
            if role == "times":
                arrays[role] = times(col, what)
            elif role == "reset":
                arrays[role] = flags(col, what)
            else:
                arrays[role] = column_values(col, what)
        pos, kw = inputs(arrays)
        out = np.asarray(fn(*pos, **kw))
        want = np.dtype(np.float64) if ret is None else np.dtype(ret)
        if out.dtype != want:
            if want.kind != "f":  # only nulls (as NaN) turn an integer result float
                raise ValueError(
                    f"scanwise.{op} of integer/Boolean columns gives an integer column, "
                    f"which cannot hold the nulls in its input; fill_null(...) or "
                    f"cast(pl.Float64) first"
                )
            out = out.astype(want)
        return pl.Series(cols[0].name, out, dtype=_polars_dtype(want))

    # not elementwise (the default): polars hands the function whole columns, or whole
    # groups under .over(), on the streaming engine too
    if hasattr(pl, "pipe_with_dtype"):  # polars >= 2: dtypes known at plan time

        def plan(items: list[tuple[Any, Any]]) -> Any:
            resolved = [e for e, _ in items]
            ret = probe([d for _, d in items], [_output_name(e) for e in resolved])
            return combined(resolved).map_batches(
                lambda s: udf(s, ret), return_dtype=_polars_dtype(ret)
            )

        return pl.pipe_with_dtype(exprs, plan)
    # polars 1.x: no dtypes at plan time, so the result is always Float64
    return combined(exprs).map_batches(lambda s: udf(s, None), return_dtype=pl.Float64)


class ScanwiseExpr:
    """``pl.col(...).scanwise``: scanwise's scans as polars expressions.

    Each method takes the keywords of the plain function of the same name (``axis``,
    ``out``, ``include_initial``, ``state`` and ``return_state`` excepted); series
    arguments are expressions or column names.  See :mod:`scanwise.polars`.
    """

    def __init__(self, expr: Any) -> None:
        self._expr = expr

    def _scan(
        self, op: str, slots: list[tuple[str, str, Any]], self_role: str, *, reverse: bool,
        reset: Any, initial: Any, reset_value: Any, **static: Any,
    ) -> Any:
        if reset is not None:
            slots.append(("reset", "expr", _as_expr(reset, "reset")))
        kw = {
            "reverse": reverse, "initial": _initial(initial),
            "reset_value": _initial(reset_value, "reset_value"), **static,
        }
        return _build(op, slots, kw, self_role)

    def _x(self) -> list[tuple[str, str, Any]]:
        return [("x", "expr", self._expr)]

    def cumsum(
        self, *, reverse: bool = False, reset: Any = None, initial: Any = None,
        reset_value: Any = None, dtype: Any = None,
    ) -> Any:
        """:func:`scanwise.cumsum` of this expression (``reset``: expression or name;
        ``initial``/``reset_value``: numbers)."""
        return self._scan("cumsum", self._x(), "x", reverse=reverse, reset=reset,
                          initial=initial, reset_value=reset_value, dtype=dtype)

    def cumprod(
        self, *, reverse: bool = False, reset: Any = None, initial: Any = None,
        reset_value: Any = None, dtype: Any = None,
    ) -> Any:
        """:func:`scanwise.cumprod` of this expression."""
        return self._scan("cumprod", self._x(), "x", reverse=reverse, reset=reset,
                          initial=initial, reset_value=reset_value, dtype=dtype)

    def logcumsumexp(
        self, *, reverse: bool = False, reset: Any = None, initial: Any = None,
        reset_value: Any = None,
    ) -> Any:
        """:func:`scanwise.logcumsumexp` of this expression."""
        return self._scan("logcumsumexp", self._x(), "x", reverse=reverse, reset=reset,
                          initial=initial, reset_value=reset_value)

    def discounted_cumsum(
        self, discount: Any, *, reverse: bool = False, reset: Any = None, initial: Any = None,
        reset_value: Any = None,
    ) -> Any:
        """:func:`scanwise.discounted_cumsum`; ``discount`` a number, expression or name."""
        kind, value = _number_or_expr(discount, "discount")
        slots = [*self._x(), ("discount", kind, value)]
        return self._scan("discounted_cumsum", slots, "x", reverse=reverse, reset=reset,
                          initial=initial, reset_value=reset_value)

    def linear_recurrence(
        self, a: Any, *, reverse: bool = False, reset: Any = None, initial: Any = None,
        reset_value: Any = None,
    ) -> Any:
        """:func:`scanwise.linear_recurrence` with this expression as ``b``:
        ``h[t] = a[t] * h[t-1] + b[t]``; ``a`` a number, expression or name."""
        kind, value = _number_or_expr(a, "a")
        slots = [("a", kind, value), ("b", "expr", self._expr)]
        return self._scan("linear_recurrence", slots, "b", reverse=reverse, reset=reset,
                          initial=initial, reset_value=reset_value)

    def _ewm(self, op: str, other: Any, times: Any, reset: Any, static: dict[str, Any]) -> Any:
        slots = [("x", "expr", self._expr)]
        if other is not None:
            slots.append(("y", "expr", _as_expr(other, "other")))
        if reset is not None:
            slots.append(("reset", "expr", _as_expr(reset, "reset")))
        if times is not None:
            slots.append(("times", "expr", _as_expr(times, "times")))
        return _build(op, slots, static, "x")

    def ewm_mean(
        self, *, alpha: Any = None, com: Any = None, span: Any = None, halflife: Any = None,
        times: Any = None, adjust: bool = True, ignore_na: bool = False,
        min_periods: int = 0, reset: Any = None,
    ) -> Any:
        """:func:`scanwise.ewm_mean`; ``times`` an expression or column name."""
        static = dict(alpha=alpha, com=com, span=span, halflife=halflife, adjust=adjust,
                      ignore_na=ignore_na, min_periods=min_periods)
        return self._ewm("ewm_mean", None, times, reset, static)

    def ewm_var(
        self, *, alpha: Any = None, com: Any = None, span: Any = None, halflife: Any = None,
        times: Any = None, adjust: bool = True, ignore_na: bool = False,
        min_periods: int = 0, bias: bool = False, reset: Any = None,
    ) -> Any:
        """:func:`scanwise.ewm_var`."""
        static = dict(alpha=alpha, com=com, span=span, halflife=halflife, adjust=adjust,
                      ignore_na=ignore_na, min_periods=min_periods, bias=bias)
        return self._ewm("ewm_var", None, times, reset, static)

    def ewm_std(
        self, *, alpha: Any = None, com: Any = None, span: Any = None, halflife: Any = None,
        times: Any = None, adjust: bool = True, ignore_na: bool = False,
        min_periods: int = 0, bias: bool = False, reset: Any = None,
    ) -> Any:
        """:func:`scanwise.ewm_std`."""
        static = dict(alpha=alpha, com=com, span=span, halflife=halflife, adjust=adjust,
                      ignore_na=ignore_na, min_periods=min_periods, bias=bias)
        return self._ewm("ewm_std", None, times, reset, static)

    def ewm_cov(
        self, other: Any, *, alpha: Any = None, com: Any = None, span: Any = None,
        halflife: Any = None, times: Any = None, adjust: bool = True,
        ignore_na: bool = False, min_periods: int = 0, bias: bool = False, reset: Any = None,
    ) -> Any:
        """:func:`scanwise.ewm_cov` of this expression and ``other`` (expression or name)."""
        static = dict(alpha=alpha, com=com, span=span, halflife=halflife, adjust=adjust,
                      ignore_na=ignore_na, min_periods=min_periods, bias=bias)
        return self._ewm("ewm_cov", other, times, reset, static)

    def ewm_corr(
        self, other: Any, *, alpha: Any = None, com: Any = None, span: Any = None,
        halflife: Any = None, times: Any = None, adjust: bool = True,
        ignore_na: bool = False, min_periods: int = 0, reset: Any = None,
    ) -> Any:
        """:func:`scanwise.ewm_corr` of this expression and ``other``."""
        static = dict(alpha=alpha, com=com, span=span, halflife=halflife, adjust=adjust,
                      ignore_na=ignore_na, min_periods=min_periods)
        return self._ewm("ewm_corr", other, times, reset, static)


def _state() -> Any:
    """:mod:`scanwise.ewm.state` (the labels of an EWMState), imported on use: the
    adapters load while the families' modules are being defined."""
    from ..ewm import state

    return state
