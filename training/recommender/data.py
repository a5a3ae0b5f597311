"""Interactions for the recommender: validation, event weights, indices, CSR matrices, splits.

Input columns: customer_id, item_id, timestamp (required); event_type (view/cart/purchase) and
weight (optional). Without event_type every row counts as a purchase (e.g. ratings, orders).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.load import DataError
from models.recommender.types import EVENT_CODES

logger = logging.getLogger(__name__)


REQUIRED = ("customer_id", "item_id", "timestamp")
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "cart": 4.0, "purchase": 10.0}
DEFAULT_EVENT = "purchase"


@dataclass
class Index:
    """Mapping between string ids and contiguous integer indices."""

    ids: np.ndarray  # str array, position = index

    def __post_init__(self) -> None:
        # A hash index: ~2x faster than Series.map(dict) over millions of string ids.
        self._pos = pd.Index(self.ids)

    @classmethod
    def of(cls, values: pd.Series) -> Index:
        """The sorted distinct values (hashing, then sorting only the distinct ones)."""
        return cls(np.sort(pd.unique(values.to_numpy()).astype(str)))

    def __len__(self) -> int:
        return len(self.ids)

    def lookup(self, values: pd.Series) -> np.ndarray:
        """Indices of `values`; -1 where a value is not in the index."""
        return np.asarray(self._pos.get_indexer(values), dtype=np.int64)


def validate_interactions(
    raw: pd.DataFrame, source: str, event_weights: dict[str, float] | None = None
) -> pd.DataFrame:
    """Check and normalise an interactions table.

    Returns a frame with customer_id, item_id (str), ts (float epoch seconds), event (int8 code),
    weight (float). Raises `DataError` naming `source`, the column and the first bad row.
    """
    weights = event_weights or EVENT_WEIGHTS
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DataError(
            source, f"missing required column; found {list(raw.columns)}", column=missing[0]
        )
    for col in REQUIRED:
        _no_nulls(raw[col], source, col)
    ts = _timestamps(raw["timestamp"], source)
    events = _events(raw, source)
    w = _weights(raw, source, events, weights)
    return pd.DataFrame(
        {
            "customer_id": _ids(raw["customer_id"]),
            "item_id": _ids(raw["item_id"]),
            "ts": ts,
            "event": events.map(EVENT_CODES).to_numpy(dtype=np.int8),
            "weight": w,
        }
    )


def _events(raw: pd.DataFrame, source: str) -> pd.Series:
    """Normalised event types; every row is a purchase without an event_type column."""
    if "event_type" not in raw.columns:
        return pd.Series(DEFAULT_EVENT, index=raw.index, dtype="string")
    events = raw["event_type"].astype("string").str.strip().str.lower()
    bad_events = ~events.isin(list(EVENT_CODES)).fillna(False)
    if bool(bad_events.any()):
        row = int(np.flatnonzero(bad_events.to_numpy())[0])
        raise DataError(
            source,
            f"{raw['event_type'].iloc[row]!r} is not one of {list(EVENT_CODES)}",
            column="event_type",
            row=row + 1,
        )
    return events


def _weights(
    raw: pd.DataFrame, source: str, events: pd.Series, event_weights: dict[str, float]
) -> np.ndarray:
    """The weight column when given (numbers >= 0), else the weight of each event type."""
    if "weight" not in raw.columns:
        return events.map(event_weights).to_numpy(dtype=np.float64)
    weight = pd.to_numeric(raw["weight"], errors="coerce")
    bad = (weight.isna() | (weight < 0)).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            source,
            f"{raw['weight'].iloc[row]!r} is not a number >= 0",
            column="weight",
            row=row + 1,
        )
    return weight.to_numpy(dtype=np.float64)


def _ids(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(series.dtype):
        series = series.astype("Int64")
    return series.astype("string").str.strip().to_numpy(dtype=object).astype(str)


def _no_nulls(series: pd.Series, source: str, col: str) -> None:
    nulls = series.isna().to_numpy(dtype=bool)
    if nulls.any():
        row = int(np.flatnonzero(nulls)[0]) + 1
        raise DataError(source, "empty value where one is required", column=col, row=row)


def _timestamps(series: pd.Series, source: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64)
    parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            source, f"{series.iloc[row]!r} is not a valid datetime", column="timestamp", row=row + 1
        )
    stamps = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    return stamps.astype(np.int64) / 1e9


def user_item_matrix(df: pd.DataFrame, users: Index, items: Index) -> sp.csr_matrix:
    """Users x items CSR of summed weights; rows of unknown users/items are dropped."""
    u = users.lookup(df["customer_id"])
    i = items.lookup(df["item_id"])
    keep = (u >= 0) & (i >= 0)
    mat = sp.csr_matrix(
        (df["weight"].to_numpy(dtype=np.float32)[keep], (u[keep], i[keep])),
        shape=(len(users), len(items)),
        dtype=np.float32,
    )
    mat.sum_duplicates()
    mat.sort_indices()
    return mat


def coded_events(df: pd.DataFrame, users: Index, items: Index) -> pd.DataFrame:
    """The events as integer codes: u, i (indices; unknown ids dropped), w, e, t.

    The string ids are looked up once here; every array of a bundle is built from the codes.
    """
    u = users.lookup(df["customer_id"])
    i = items.lookup(df["item_id"])
    keep = (u >= 0) & (i >= 0)
    return pd.DataFrame(
        {
            "u": u[keep],
            "i": i[keep],
            "w": df["weight"].to_numpy()[keep],
            "e": df["event"].to_numpy()[keep],
            "t": df["ts"].to_numpy()[keep],
        }
    )


def history_arrays(df: pd.DataFrame, users: Index, items: Index) -> tuple[np.ndarray, ...]:
    """Per-user history as CSR arrays: indptr, items, summed weight, max event, last ts."""
    return coded_history(coded_events(df, users, items), len(users))


def coded_history(frame: pd.DataFrame, n_users: int) -> tuple[np.ndarray, ...]:
    """`history_arrays` of `coded_events`."""
    agg = (
        frame.groupby(["u", "i"], sort=True)
        .agg(w=("w", "sum"), e=("e", "max"), t=("t", "max"))
        .reset_index()
    )
    counts = np.bincount(agg["u"].to_numpy(), minlength=n_users)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return (
        indptr,
        agg["i"].to_numpy(dtype=np.int32),
        agg["w"].to_numpy(dtype=np.float32),
        agg["e"].to_numpy(dtype=np.int8),
        agg["t"].to_numpy(dtype=np.float64),
    )


SPLITS = ("auto", "last", "basket", "global")
# "auto" holds out the last basket when orders carry this many lines on average (events sharing a
# customer and a timestamp), else the last events. Logged views and rating sessions put one or two
# events on a timestamp (a generated world 1.0, MovieLens 1.3-2.0); grocery orders ~9.
BASKET_LINES = 3.0


def resolve_split(df: pd.DataFrame, mode: str) -> str:
    """The split mode to use: `mode` itself, or for "auto" "basket" on basket-shaped data (at
    least `BASKET_LINES` events per customer and timestamp on average) and "last" otherwise."""
    if mode not in SPLITS:
        raise ValueError(f"unknown split {mode!r}; expected one of {list(SPLITS)}")
    if mode != "auto":
        return mode
    orders = len(df.drop_duplicates(["customer_id", "ts"]))
    lines = len(df) / max(1, orders)
    chosen = "basket" if lines >= BASKET_LINES else "last"
    logger.info("split auto: %.2f events per customer and timestamp -> %s", lines, chosen)
    return chosen


def temporal_split(
    df: pd.DataFrame, fraction: float = 0.2, min_train: int = 1, mode: str = "last"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-based holdout; every customer's holdout events are strictly after their fit events.

    Modes ("auto": see `resolve_split`): "last" - each customer's last `fraction` of events by
    time; "basket" - each
    customer's last basket (the events at their latest timestamp; an order's lines share one);
    "global" - every event after one cut-off, the (1 - `fraction`) quantile of event times.
    Events tied in time with a fit event stay in fit; customers with fewer than `min_train`
    fit events keep everything in fit.
    """
    mode = resolve_split(df, mode)
    ordered = df.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)
    ts = ordered["ts"].to_numpy()
    by_customer = ordered.groupby("customer_id", sort=False)["ts"]
    if mode == "last":
        rank = ordered.groupby("customer_id", sort=False).cumcount().to_numpy()
        size = by_customer.transform("size").to_numpy()
        holdout = rank >= size - np.floor(size * fraction).astype(np.int64)
    elif mode == "basket":
        holdout = ts == by_customer.transform("max").to_numpy()
    else:
        holdout = ts > float(np.quantile(ts, 1.0 - fraction))
    fit_last = (
        pd.Series(np.where(holdout, -np.inf, ts)).groupby(ordered["customer_id"]).transform("max")
    )
    holdout &= ts > fit_last.to_numpy()  # ties with a fit event stay in fit: nothing leaks
    n_fit = pd.Series(~holdout).groupby(ordered["customer_id"]).transform("sum").to_numpy()
    holdout &= n_fit >= min_train
    return ordered[~holdout].reset_index(drop=True), ordered[holdout].reset_index(drop=True)
