"""Per-customer purchase summaries for the BG/NBD and Gamma-Gamma models.

One customer's purchases on one calendar day count as one transaction (their amounts are
summed). `frequency` is the number of repeat transactions (transactions after the first),
`recency` the time from the first to the last transaction, `T` the time from the first
transaction to the end of the calibration period, all in the chosen time unit.
`monetary_value` is the mean amount of the repeat transactions (0 when there are none), as in
Fader & Hardie's Gamma-Gamma note, which excludes the first purchase.

The id helpers at the end put such per-customer frames side by side by customer id.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TimeUnit = Literal["day", "week"]
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0}

SUMMARY_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_transactions",
    "total_amount",
    "first_purchase",
    "last_purchase",
)


def unit_days(time_unit: str) -> float:
    """Days in one `time_unit` ("day" or "week"); raises ValueError for anything else."""
    try:
        return UNIT_DAYS[time_unit]
    except KeyError:
        allowed = sorted(UNIT_DAYS)
        raise ValueError(f"time unit must be one of {allowed}, not {time_unit!r}") from None


def daily_transactions(
    transactions: pd.DataFrame, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    """Collapse purchases to one row per customer and calendar day: customer, day, amount."""
    frame = pd.DataFrame(
        {
            "customer": transactions[customer_col].to_numpy(),
            "day": _as_datetime(transactions[date_col]).dt.floor("D").to_numpy(),
            "amount": pd.to_numeric(transactions[amount_col]).astype("float64").to_numpy(),
        }
    )
    return frame.groupby(["customer", "day"], sort=True, as_index=False).agg(
        amount=("amount", "sum")
    )


def _as_datetime(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    return pd.to_datetime(values, format="mixed")


def summarize_transactions(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: pd.Timestamp | str | None = None,
    time_unit: TimeUnit = "day",
) -> pd.DataFrame:
    """Summarize raw transactions per customer for BG/NBD and Gamma-Gamma.

    Args:
        transactions: One row per purchase (or purchase line).
        customer_col: Column with the customer id.
        date_col: Column with the purchase timestamp or date.
        amount_col: Column with the purchase amount.
        calibration_end: Last instant of the calibration period; later rows are ignored.
            Default: the last transaction date.
        time_unit: "day" or "week" for `recency` and `T`.

    Returns:
        One row per customer with at least one transaction by `calibration_end`, indexed by
        customer id, columns `SUMMARY_COLUMNS`.
    """
    days_per_unit = unit_days(time_unit)
    if calibration_end is not None:
        # Cut on the raw timestamps: a purchase later on the end day is outside the period.
        end = pd.Timestamp(calibration_end)
        stamps = _as_datetime(transactions[date_col])
        transactions = transactions.loc[~(stamps > end)]
    daily = daily_transactions(transactions, customer_col, date_col, amount_col)
    if calibration_end is None:
        end = pd.Timestamp(daily["day"].max()) if len(daily) else pd.Timestamp(0)
    end_day = end.floor("D")
    grouped = daily.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped["day"].count()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    repeats = count - 1
    repeat_amount = total - first_amount
    monetary = (repeat_amount / repeats.where(repeats > 0)).fillna(0.0)
    unit = pd.Timedelta(days=days_per_unit)
    summary = pd.DataFrame(
        {
            "frequency": repeats.astype("int64"),
            "recency": (last - first).dt.total_seconds() / unit.total_seconds(),
            "T": (end_day - first).dt.total_seconds() / unit.total_seconds(),
            "monetary_value": monetary.astype("float64"),
            "n_transactions": count.astype("int64"),
            "total_amount": total.astype("float64"),
            "first_purchase": first,
            "last_purchase": last,
        }
    )
    summary.index.name = "customer_id"
    return summary


def positions(values: pd.Series | pd.Index, keys: pd.Index) -> np.ndarray:
    """Position of each value in `keys`, -1 where absent (`keys.get_indexer`).

    For string ids on both sides Arrow's hash lookup is used: pandas would first turn every
    Arrow string into a Python object, seconds per call at a million customers.

    Raises:
        ValueError: (pandas' InvalidIndexError for other dtypes) when `keys` repeat.
    """
    if isinstance(values.dtype, pd.StringDtype) and isinstance(keys.dtype, pd.StringDtype):
        key_array = pa.array(keys, type=pa.large_string())
        if pc.count_distinct(key_array, mode="all").as_py() != len(key_array):
            raise ValueError(f"{keys.name or 'keys'}: ids are not unique")
        found = pc.index_in(pa.array(values, type=pa.large_string()), value_set=key_array)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)
    return np.asarray(keys.get_indexer(pd.Index(values)), dtype=np.intp)


def take_float(values: pd.Series, at: np.ndarray) -> np.ndarray:
    """`values` as float64 at the positions `at` of `positions`, NaN where `at` is -1."""
    return np.append(values.to_numpy(dtype="float64", na_value=np.nan), np.nan)[at]


def align(frame: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """`frame.reindex(ids)` (same values and dtypes), with the string lookup done once.

    The reindex itself runs on integer positions, so reading many columns of `frame` for
    `ids` costs one string lookup instead of one per column.
    """
    at = positions(frame.index, ids)
    inside = at >= 0
    by_position = frame.loc[inside].set_axis(pd.Index(at[inside]))
    return by_position.reindex(pd.RangeIndex(len(ids))).set_axis(ids)


def sorted_ids(*ids: pd.Series | pd.Index) -> pd.Index:
    """Sorted distinct string ids, in Arrow (a Python set and sort of 1M strings take seconds).

    Arrow compares UTF-8 bytes, which orders strings by code point, as Python's sort does.
    """
    both = pa.chunked_array([pa.array(i, type=pa.large_string()) for i in ids])
    distinct = pc.unique(both)
    ordered = distinct.take(pc.sort_indices(distinct))
    return pd.Index(pd.array(ordered, dtype="str"), name="customer_id")
