"""Build the arrays of a recommender bundle: metadata, popularity, segments, co-purchases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.load import DataError
from models.recommender.arrays import RecArrays
from models.recommender.types import PURCHASE
from training.recommender.data import Index, history_arrays

DAY = 86400.0


def item_metadata(
    items: pd.DataFrame | None, index: Index, source: str = "items"
) -> dict[str, np.ndarray]:
    """Category/brand codes and prices aligned with `index` (unknown: -1 / NaN)."""
    n = len(index)
    out: dict[str, np.ndarray] = {
        "item_category": np.full(n, -1, np.int32),
        "categories": np.array([], dtype=str),
        "item_brand": np.full(n, -1, np.int32),
        "brands": np.array([], dtype=str),
        "item_price": np.full(n, np.nan, np.float64),
    }
    if items is None:
        return out
    if "item_id" not in items.columns:
        raise DataError(
            source, f"missing required column; found {list(items.columns)}", column="item_id"
        )
    ids = items["item_id"].astype("string").str.strip()
    pos = index.lookup(ids)
    keep = pos >= 0
    for col, codes_key, names_key in (
        ("category", "item_category", "categories"),
        ("brand", "item_brand", "brands"),
    ):
        if col in items.columns:
            values = items[col].astype("string").fillna("").to_numpy(dtype=object).astype(str)
            names, codes = np.unique(values, return_inverse=True)
            out[names_key] = names.astype(str)
            out[codes_key][pos[keep]] = codes[keep].astype(np.int32)
    if "price" in items.columns:
        price = pd.to_numeric(items["price"], errors="coerce").to_numpy(dtype=np.float64)
        out["item_price"][pos[keep]] = price[keep]
    return out


def popularity(
    df: pd.DataFrame, items: Index, as_of: float, trend_days: float = 14.0
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct customers per item overall and within the last `trend_days` before `as_of`."""
    pairs = df[["customer_id", "item_id", "ts"]]
    overall = pairs.drop_duplicates(["customer_id", "item_id"])
    recent = pairs[pairs["ts"] >= as_of - trend_days * DAY].drop_duplicates(
        ["customer_id", "item_id"]
    )
    pop = np.bincount(_valid(items.lookup(overall["item_id"])), minlength=len(items))
    trend = np.bincount(_valid(items.lookup(recent["item_id"])), minlength=len(items))
    return pop.astype(np.float32), trend.astype(np.float32)


def _valid(idx: np.ndarray) -> np.ndarray:
    return idx[idx >= 0]


def segment_popularity(
    df: pd.DataFrame, customers: pd.DataFrame | None, users: Index, items: Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments (from customers.region), per-segment item popularity and each user's segment."""
    empty = (
        np.array([], dtype=str),
        np.zeros((0, len(items)), np.float32),
        np.full(len(users), -1, np.int32),
    )
    if customers is None or "region" not in customers.columns:
        return empty
    frame = customers.assign(customer_id=customers["customer_id"].astype("string").str.strip())
    region: pd.Series = frame.drop_duplicates("customer_id").set_index("customer_id")["region"]
    seg_of_row = df["customer_id"].map(region.astype("string")).fillna("")
    names = np.unique(region.dropna().astype("string").to_numpy(dtype=object).astype(str))
    if len(names) == 0:
        return empty
    code = {n: i for i, n in enumerate(names.tolist())}
    pairs = pd.DataFrame(
        {
            "s": seg_of_row.map(code).fillna(-1).to_numpy(dtype=np.int64),
            "c": df["customer_id"],
            "i": items.lookup(df["item_id"]),
        }
    )
    pairs = pairs[(pairs["s"] >= 0) & (pairs["i"] >= 0)].drop_duplicates(["c", "i"])
    pop = np.zeros((len(names), len(items)), np.float32)
    np.add.at(pop, (pairs["s"].to_numpy(), pairs["i"].to_numpy()), 1.0)
    user_seg = pd.Series(users.ids).map(region.astype("string")).map(code)
    return names, pop, user_seg.fillna(-1).to_numpy(dtype=np.int32)


def copurchase(
    df: pd.DataFrame, users: Index, items: Index, *, last_n: int = 50, top_n: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Item x item counts of customers who bought both (each customer's last `last_n` buys).

    Purchases are used when the data has any; otherwise every interaction counts. Returns CSR
    arrays (indptr, items, counts) keeping the `top_n` strongest partners per item, and buyers.
    """
    buys = df[df["event"] == PURCHASE] if bool((df["event"] == PURCHASE).any()) else df
    buys = buys.sort_values("ts").drop_duplicates(["customer_id", "item_id"], keep="last")
    buys = buys.groupby("customer_id").tail(last_n)
    u, i = users.lookup(buys["customer_id"]), items.lookup(buys["item_id"])
    keep = (u >= 0) & (i >= 0)
    b = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (u[keep], i[keep])), shape=(len(users), len(items))
    )
    buyers = np.asarray(b.sum(axis=0)).ravel().astype(np.float32)
    co = (b.T @ b).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    indptr, cols, counts = [0], [], []
    for row in range(co.shape[0]):
        start, end = co.indptr[row], co.indptr[row + 1]
        order = np.argsort(-co.data[start:end], kind="stable")[:top_n]
        cols.append(co.indices[start:end][order])
        counts.append(co.data[start:end][order])
        indptr.append(indptr[-1] + len(order))
    return (
        np.asarray(indptr, np.int64),
        np.concatenate(cols or [[]]).astype(np.int32),
        np.concatenate(counts or [[]]).astype(np.float32),
        buyers,
    )


def build_arrays(
    df: pd.DataFrame,
    users: Index,
    items: Index,
    factors: tuple[np.ndarray, ...],
    *,
    items_df: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    as_of: float,
    ease: tuple[np.ndarray, np.ndarray] | None = None,
) -> RecArrays:
    """All arrays of a bundle from the (validated) training interactions and fitted models.

    `factors` are ALS (user, item) factors; `ease` the optional EASE (items, B) pair.
    """
    indptr, h_items, h_w, h_e, h_t = history_arrays(df, users, items)
    pop, trend = popularity(df, items, as_of)
    seg_names, seg_pop, user_seg = segment_popularity(df, customers, users, items)
    co_ptr, co_items, co_counts, buyers = copurchase(df, users, items)
    return RecArrays(
        user_ids=users.ids.astype(str),
        item_ids=items.ids.astype(str),
        user_factors=factors[0],
        item_factors=factors[1],
        hist_indptr=indptr,
        hist_items=h_items,
        hist_weights=h_w,
        hist_events=h_e,
        hist_times=h_t,
        **item_metadata(items_df, items),
        item_popularity=pop,
        item_trend=trend,
        segments=seg_names,
        segment_popularity=seg_pop,
        user_segment=user_seg,
        co_indptr=co_ptr,
        co_items=co_items,
        co_counts=co_counts,
        item_buyers=buyers,
        **({} if ease is None else {"ease_items": ease[0], "ease_weights": ease[1]}),
    )
