"""Materialize your own data: a churn feature table and/or the customers of an interactions file.

The table is shaped like the one `train churn --table` takes (one row per customer, or several
snapshots with a time column: the latest is kept; the label column may be absent). Its columns
become the cached features, so a table-trained churn champion is served from exactly the
columns it learned from. Customers of an interactions file get the recommender's state. Like
`materialize`, everything goes into a new cache version made current only at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.cache_version import version_meta, write_version
from features.explained import explain_first, explained_meta
from features.load import DataError
from features.materialize import MaterializeReport, check_churn_features, feature_rows
from features.store import OnlineStore

logger = logging.getLogger(__name__)


def table_features(
    frame: pd.DataFrame, source: Path | str, id_col: str, drop: Sequence[str | None] = ()
) -> pd.DataFrame:
    """The table's feature columns indexed by customer id (str): one row per customer.

    Args:
        frame: The table as read (CSV or Parquet).
        source: Its file, for error messages.
        id_col: The customer id column.
        drop: Columns that are not features (the label, the time column); absent ones are fine.

    Raises:
        DataError: naming the file, the column and the row (no id column, empty or duplicate ids).
    """
    if id_col not in frame.columns:
        raise DataError(source, f"no id column; found {list(frame.columns)}", column=id_col)
    ids = frame[id_col]
    empty = ids.isna().to_numpy(dtype=bool)
    if empty.any():
        row = int(np.flatnonzero(empty)[0]) + 1
        raise DataError(source, "empty id", column=id_col, row=row)
    if pd.api.types.is_float_dtype(ids.dtype):
        ids = ids.astype("Int64")  # 12.0 -> "12", as the id column was meant
    keys = ids.astype("string").str.strip()
    dup = keys.duplicated().to_numpy(dtype=bool)
    if dup.any():
        row = int(np.flatnonzero(dup)[0]) + 1
        raise DataError(
            source,
            f"duplicate id {keys.iloc[row - 1]!r}: one row per customer (keep each customer's "
            "latest snapshot)",
            column=id_col,
            row=row,
        )
    gone = {id_col, *(c for c in drop if c)}
    feats = frame[[c for c in frame.columns if c not in gone]]
    return feats.set_axis(pd.Index(keys.to_numpy(dtype=object), name="customer_id"), axis=0)


def latest_rows(frame: pd.DataFrame, id_col: str, time_col: str | None) -> pd.DataFrame:
    """Each customer's latest snapshot when the table has the time column, else `frame`."""
    if time_col is None or time_col not in frame.columns or id_col not in frame.columns:
        return frame
    times = pd.to_datetime(frame[time_col], errors="coerce")
    order = np.argsort(times.to_numpy(dtype="datetime64[ns]"), kind="stable")
    ordered = frame.iloc[order]
    return ordered.loc[~ordered[id_col].duplicated(keep="last")].sort_index()


def materialize_own(
    store: OnlineStore,
    features: pd.DataFrame | None,
    customer_ids: Sequence[str] = (),
    *,
    source: str = "table",
    recommender: Any | None = None,
    churn: Any | None = None,
    as_of: str | None = None,
    model_versions: dict[str, str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    explain_max: int = 50_000,
) -> MaterializeReport:
    """Write a new cache version of `features` rows and/or the customers in `customer_ids`.

    Args:
        store: The online store.
        features: From `table_features` (indexed by customer id), or None.
        customer_ids: Customers of an interactions file; they get recommender state.
        source: The table's file, for error messages.
        recommender: A `RecommenderModel`: its state is stored for every customer.
        churn: A `TabularScorer`; it must find its features in `features` (else `FeatureGap`),
            and its probabilities of every table row fill the `churn` ranking.
        as_of: Recorded as the cache's data cut-off (None: unknown).
        model_versions: Recorded in the version's metadata.
        progress: Called with (done, total) after each chunk.
        explain_max: How many rows' churn reasons to compute ahead, highest risk first.
    """
    table = features if features is not None else pd.DataFrame(index=pd.Index([], dtype=object))
    check_churn_features(churn, [str(c) for c in table.columns], source)
    # Customers only in the interactions file: recommender state, no features (never scored
    # for churn on an all-unknown row).
    extra = pd.DataFrame(index=pd.Index(list(dict.fromkeys(map(str, customer_ids)))))
    extra = extra.loc[~extra.index.isin(table.index)]
    with _scoring(source):
        explain = explain_first(churn, table, table.index, explain_max)

    def write(version: str) -> tuple[int, int, dict[str, Any]]:
        rows = feature_rows(table, recommender, None, progress, churn, explain)
        with _scoring(source):  # explaining a row encodes its values as a request would
            written = store.write_customers(version, rows)
        written += store.write_customers(version, feature_rows(extra, recommender, None, progress))
        ranked = _write_ranking(store, version, table, churn, source)
        feature_set = [str(c) for c in table.columns]
        meta = version_meta(as_of, written, ranked, model_versions, feature_set)
        return written, ranked, {**meta, **explained_meta(churn if explain is not None else None)}

    version, (written, ranked), _ = write_version(store, write)
    logger.info("materialized %d customers from %s into version %s", written, source, version)
    return MaterializeReport(version, as_of or "", written, ranked, model_versions or {})


@contextmanager
def _scoring(source: str) -> Iterator[None]:
    """A value the churn model cannot read becomes a `DataError` naming the table."""
    try:
        yield
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(source, f"cannot score the churn model's features: {exc}") from exc


def _write_ranking(
    store: OnlineStore, version: str, table: pd.DataFrame, churn: Any | None, source: str
) -> int:
    """The churn ranking of every table row (the table says nothing about who is still active)."""
    if churn is None or table.empty:
        return 0
    with _scoring(source):
        probs = churn.score_frame(table)["probability"].astype(float)
    store.write_ranking(version, "churn", dict(zip(table.index, probs, strict=True)))
    return len(probs)
