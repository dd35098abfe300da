"""The polars expression namespace ``pl.col(...).scanwise``; import this module to use it.

``import scanwise.polars`` imports polars and registers the namespace, whichever of
polars and scanwise was imported first (``import scanwise`` alone registers it only when
polars is already imported).  Then::

    import polars as pl
    import scanwise.polars  # noqa: F401

    df.with_columns(pl.col("price").scanwise.ewm_var(halflife=20).over("ticker"))
    lf.select(pl.col("r").scanwise.discounted_cumsum(0.99, reverse=True, reset="done"))

The methods, the accepted column dtypes and the dtypes of the results are described in
:mod:`scanwise.backends.polars`.
"""

from __future__ import annotations

from .backends.polars import ScanwiseExpr, register

register()

__all__ = ["ScanwiseExpr"]
