"""Build the arrays of a recommender bundle: metadata, popularity, segments, co-purchases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.load import DataError
from models.recommender.arrays import RecArrays
from models.recommender.types import PURCHASE
from training.recommender.data import Index, coded_events, coded_history

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
    hist_items: np.ndarray,
    hist_times: np.ndarray,
    n_items: int,
    as_of: float,
    trend_days: float = 14.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct customers per item overall and within the last `trend_days` before `as_of`.

    From the history arrays (one entry per customer and item, with its last event time): a pair
    has an event in the window exactly when its last one is.
    """
    pop = np.bincount(hist_items, minlength=n_items)
    trend = np.bincount(hist_items[hist_times >= as_of - trend_days * DAY], minlength=n_items)
    return pop.astype(np.float32), trend.astype(np.float32)


def segment_popularity(
    hist_indptr: np.ndarray,
    hist_items: np.ndarray,
    customers: pd.DataFrame | None,
    users: Index,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments (from customers.region), per-segment item popularity (distinct customers, from
    the history arrays) and each user's segment."""
    empty = (
        np.array([], dtype=str),
        np.zeros((0, n_items), np.float32),
        np.full(len(users), -1, np.int32),
    )
    if customers is None or "region" not in customers.columns:
        return empty
    frame = customers.assign(customer_id=customers["customer_id"].astype("string").str.strip())
    region: pd.Series = frame.drop_duplicates("customer_id").set_index("customer_id")["region"]
    names = np.unique(region.dropna().astype("string").to_numpy(dtype=object).astype(str))
    if len(names) == 0:
        return empty
    code = {n: i for i, n in enumerate(names.tolist())}
    user_seg = pd.Series(users.ids).map(region.astype("string")).map(code)
    segment_of = user_seg.fillna(-1).to_numpy(dtype=np.int32)
    seg = np.repeat(segment_of, np.diff(hist_indptr))
    known = seg >= 0
    pop = np.zeros((len(names), n_items), np.float32)
    np.add.at(pop, (seg[known], hist_items[known]), 1.0)
    return names, pop, segment_of


def copurchase(
    coded: pd.DataFrame, n_users: int, n_items: int, *, last_n: int = 50, top_n: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Item x item counts of customers who bought both (each customer's last `last_n` buys).

    Purchases are used when the data has any; otherwise every interaction counts. Returns CSR
    arrays (indptr, items, counts) keeping the `top_n` strongest partners per item, and buyers.
    """
    buys = coded[coded["e"] == PURCHASE] if bool((coded["e"] == PURCHASE).any()) else coded
    buys = buys.sort_values("t").drop_duplicates(["u", "i"], keep="last")
    buys = buys.groupby("u").tail(last_n)
    b = sp.csr_matrix(
        (np.ones(len(buys), np.float32), (buys["u"].to_numpy(), buys["i"].to_numpy())),
        shape=(n_users, n_items),
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
    coded = coded_events(df, users, items)  # the string ids looked up once
    indptr, h_items, h_w, h_e, h_t = coded_history(coded, len(users))
    pop, trend = popularity(h_items, h_t, len(items), as_of)
    seg_names, seg_pop, user_seg = segment_popularity(indptr, h_items, customers, users, len(items))
    co_ptr, co_items, co_counts, buyers = copurchase(coded, len(users), len(items))
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
