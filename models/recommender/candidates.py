"""Candidates from several generators and their ranking features, with numpy only.

Training computes the ranker's features with this same code (on a model of the fit period), so
serving and training cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.recommender.arrays import F32, I64, RecArrays, top_k

DAY = 86400.0
GENERATORS = ("als", "ease", "cooc", "popular", "trending", "segment")
FEATURES = (
    "als_score",
    "als_rank",
    "ease_score",
    "ease_rank",
    "cooc_score",
    "cooc_rank",
    "knn_max",
    "knn_recent",
    "log_pop",
    "pop_rank",
    "log_trend",
    "trend_ratio",
    "segment_share",
    "price_ratio",
    "category_share",
    "days_since_category",
    "days_since_last",
    "log_history",
    "generator_count",
)
RECENT = 5  # history items that count as "recent" for `knn_recent`
# `ranks_of` sorts the whole key when the catalogue is at most this many times the items
# (measured: at 1,000 items and 300 candidates the sort takes a quarter of the bucketing's time).
FULL_SORT_RATIO = 16
_GENERATOR_NAMES = np.asarray(GENERATORS)


@dataclass(frozen=True)
class CandidateConfig:
    """How many candidates each generator contributes."""

    als: int = 100
    ease: int = 100
    cooc: int = 50
    popular: int = 30
    trending: int = 20
    segment: int = 20


@dataclass
class Candidates:
    """Candidate items, their feature matrix and the generator that ranked each one best."""

    items: I64
    features: F32
    generator: np.ndarray  # generator name per candidate (numpy str array)


def _list_ranks(order: I64, items: I64) -> np.ndarray:
    """1-based position in `order` of each of the sorted unique `items` (inf when absent)."""
    ranks = np.full(len(items), np.inf)
    ranks[np.searchsorted(items, order)] = np.arange(1, len(order) + 1)
    return ranks


def ranks_of(key: np.ndarray, items: np.ndarray) -> np.ndarray:
    """1-based rank of `items` in `np.argsort(key, kind="stable")`, without sorting `key`.

    The rank of item i is 1 + the number of items with a smaller key + the number of items
    with an equal key and a smaller index (the stable sort's tie rule). Only the distinct
    keys of `items` are sorted; the catalogue is bucketed against them with one
    `searchsorted`. A key array holding NaN, or a catalogue under FULL_SORT_RATIO times the
    items (where one sort costs less than the bucketing's dozen numpy calls), takes the full sort.
    """
    items = np.asarray(items, dtype=np.int64)
    if not len(items):
        return np.zeros(0)
    if len(key) <= FULL_SORT_RATIO * len(items) or np.isnan(key).any():
        ranks = np.empty(len(key))
        ranks[np.argsort(key, kind="stable")] = np.arange(1, len(key) + 1)
        out: np.ndarray = ranks[items]
        return out
    query = key[items]
    uniq = np.unique(query)
    right = np.searchsorted(uniq, key, side="right")  # distinct query keys <= key[j]
    below = np.cumsum(np.bincount(right, minlength=len(uniq) + 1))  # below[t]: keys < uniq[t]
    group = np.searchsorted(uniq, query)
    equal = np.flatnonzero((right > 0) & (uniq[np.maximum(right - 1, 0)] == key))
    tied = np.sort((right[equal] - 1) * len(key) + equal)  # (group, index), lexicographic
    ties = np.searchsorted(tied, group * len(key) + items) - np.searchsorted(tied, group * len(key))
    result: np.ndarray = (below[group] + ties + 1).astype(np.float64)
    return result


def popularity_rank(arrays: RecArrays) -> np.ndarray:
    """Rank of every item by popularity (request-independent: compute once per model)."""
    pop = arrays.item_popularity.astype(np.float64)
    ranks = np.empty(len(pop))
    ranks[np.argsort(-pop, kind="stable")] = np.arange(1, len(pop) + 1)
    return ranks


def cooc_scores(arrays: RecArrays, hist_items: np.ndarray) -> np.ndarray:
    """Sum over history items h of P(j | h) from the co-purchase table, for every item j."""
    n_items = len(arrays.item_ids)
    starts, ends = arrays.co_indptr[hist_items], arrays.co_indptr[hist_items + 1]
    lengths = ends - starts
    total = int(lengths.sum()) if len(hist_items) else 0
    if total == 0:
        return np.zeros(n_items)
    # The rows' index ranges concatenated, in history order: arange + per-row offset.
    idx = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    owner = np.repeat(hist_items, lengths)
    weights = arrays.co_counts[idx] / np.maximum(arrays.item_buyers[owner], 1.0)
    return np.bincount(arrays.co_items[idx], weights=weights, minlength=n_items)


def ease_scores(arrays: RecArrays, hist_items: np.ndarray) -> np.ndarray:
    """EASE score of every item (sum of B rows of the covered history); NaN when not covered."""
    out = np.full(len(arrays.item_ids), np.nan)
    covered = arrays.ease_items
    if not len(covered):
        return out
    pos = np.searchsorted(covered, hist_items)
    pos = pos[(pos < len(covered)) & (covered[np.minimum(pos, len(covered) - 1)] == hist_items)]
    out[covered] = arrays.ease_weights[pos].sum(axis=0, dtype=np.float64)
    return out


def build_candidates(
    arrays: RecArrays,
    unit_factors: F32,
    vector: F32,
    hist_items: np.ndarray,
    hist_weights: np.ndarray,
    hist_times: np.ndarray,
    mask: np.ndarray,
    segment: int | None,
    now: float,
    config: CandidateConfig = CandidateConfig(),
    pop_rank: np.ndarray | None = None,
) -> Candidates:
    """Merge the generators' top lists (allowed items only) and compute every feature.

    `pop_rank` is `popularity_rank(arrays)`, which serving precomputes once per model; without
    it the candidates' popularity ranks are computed here (same values).
    """
    n_items = len(arrays.item_ids)
    als = (arrays.item_factors @ vector).astype(np.float64)
    cooc = cooc_scores(arrays, hist_items)
    ease = ease_scores(arrays, hist_items)
    pop, trend = arrays.item_popularity, arrays.item_trend
    has_seg = segment is not None and segment >= 0
    seg = arrays.segment_popularity[segment] if has_seg else np.zeros(n_items, np.float32)
    lists = {
        "als": top_k(np.where(mask, als, -np.inf), config.als),
        "ease": top_k(np.where(mask & np.isfinite(ease), ease, -np.inf), config.ease),
        "cooc": top_k(np.where(mask & (cooc > 0), cooc, -np.inf), config.cooc),
        "popular": top_k(np.where(mask, pop, -np.inf), config.popular),
        "trending": top_k(np.where(mask & (trend > 0), trend, -np.inf), config.trending),
        "segment": top_k(np.where(mask & (seg > 0), seg, -np.inf), config.segment)
        if has_seg
        else np.zeros(0, np.int64),
    }
    items = np.unique(np.concatenate(list(lists.values())))
    ranks = {g: _list_ranks(order, items) for g, order in lists.items()}
    best = np.argmin(np.vstack([ranks[g] for g in GENERATORS]), axis=0)
    generator = _GENERATOR_NAMES[best]
    n_gen = np.sum(np.vstack([np.isfinite(ranks[g]) for g in GENERATORS]), axis=0)
    cand_pop_rank = (
        ranks_of(-pop.astype(np.float64), items) if pop_rank is None else pop_rank[items]
    )
    feats = _features(
        arrays,
        unit_factors,
        items,
        (als, ease, cooc, cand_pop_rank),
        hist_items,
        hist_weights,
        hist_times,
        seg if has_seg else None,
        now,
        n_gen,
    )
    return Candidates(items, feats, generator)


def _features(
    arrays: RecArrays,
    unit: F32,
    items: I64,
    scores: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    hist_items: np.ndarray,
    hist_weights: np.ndarray,
    hist_times: np.ndarray,
    seg: np.ndarray | None,
    now: float,
    n_gen: np.ndarray,
) -> F32:
    als, ease, cooc, pop_rank = scores
    covered = np.isfinite(ease[items])
    has_cooc = cooc[items] > 0
    # Ranks among all items, for the candidates that need them only (no full-catalogue sort).
    als_rank = ranks_of(-als, items)
    ease_rank = np.full(len(items), np.nan)
    ease_rank[covered] = ranks_of(-np.nan_to_num(ease, nan=-np.inf), items[covered])
    cooc_rank = np.full(len(items), np.nan)
    cooc_rank[has_cooc] = ranks_of(-cooc, items[has_cooc])
    pop = arrays.item_popularity.astype(np.float64)
    knn, knn_recent, days_last = _history_features(unit, items, hist_items, hist_times, now)
    trend = arrays.item_trend[items].astype(np.float64)
    seg_share = (
        seg[items] / max(float(seg.max()), 1.0) if seg is not None else np.full(len(items), np.nan)
    )
    price = arrays.item_price
    hist_price = price[hist_items] if len(hist_items) else np.zeros(0)
    known_price = hist_price[np.isfinite(hist_price)]
    usual = float(known_price.mean()) if len(known_price) else np.nan
    cat_share, days = _category_features(arrays, items, hist_items, hist_weights, hist_times, now)
    cols = [
        als[items],
        als_rank,
        ease[items],
        ease_rank,
        cooc[items],
        cooc_rank,
        knn,
        knn_recent,
        np.log1p(pop[items]),
        pop_rank,
        np.log1p(trend),
        trend / (pop[items] + 1.0),
        seg_share,
        price[items] / usual,
        cat_share,
        days,
        np.full(len(items), days_last),
        np.full(len(items), np.log1p(len(hist_items))),
        n_gen,
    ]
    return np.column_stack(cols).astype(np.float32)


def _history_features(
    unit: F32, items: I64, hist_items: np.ndarray, hist_times: np.ndarray, now: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Max cosine to the whole history and to the `RECENT` latest items; days since last event."""
    if not len(hist_items):
        return np.zeros(len(items)), np.zeros(len(items)), np.nan
    sims = unit[items] @ unit[hist_items].T
    latest = np.argsort(-hist_times, kind="stable")[:RECENT]
    days_last = (now - float(hist_times.max())) / DAY
    return sims.max(axis=1), sims[:, latest].max(axis=1), days_last


def _category_features(
    arrays: RecArrays,
    items: I64,
    hist_items: np.ndarray,
    hist_weights: np.ndarray,
    hist_times: np.ndarray,
    now: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of the customer's weight in each candidate's category; days since last touch."""
    n_cat = len(arrays.categories)
    cand_cat = arrays.item_category[items]
    if n_cat == 0 or not len(hist_items):
        return np.full(len(items), np.nan), np.full(len(items), np.nan)
    h_cat = arrays.item_category[hist_items]
    known = h_cat >= 0
    weight = np.bincount(h_cat[known], weights=hist_weights[known], minlength=n_cat)
    last = np.full(n_cat, -np.inf)
    np.maximum.at(last, h_cat[known], hist_times[known])
    share = weight / max(float(weight.sum()), 1e-9)
    safe = np.maximum(cand_cat, 0)
    days = np.where(np.isfinite(last[safe]), (now - last[safe]) / DAY, np.nan)
    return (np.where(cand_cat >= 0, share[safe], np.nan), np.where(cand_cat >= 0, days, np.nan))
