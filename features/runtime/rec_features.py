"""Candidates from several generators and their ranking features, with numpy only.

Training computes the ranker's features with this same code (on a model of the fit period), so
serving and training cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.runtime.rec_bundle import F32, I64, RecArrays, top_k

DAY = 86400.0
GENERATORS = ("als", "ease", "cooc", "popular", "trending", "segment")
FEATURES = (
    "als_score", "als_rank", "ease_score", "ease_rank", "cooc_score", "cooc_rank", "knn_max",
    "knn_recent", "log_pop", "pop_rank", "log_trend", "trend_ratio", "segment_share",
    "price_ratio", "category_share", "days_since_category", "days_since_last", "log_history",
    "generator_count",
)
RECENT = 5  # history items that count as "recent" for `knn_recent`


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
    generator: list[str]


def _ranks(order: I64, n_items: int, missing: float) -> np.ndarray:
    ranks = np.full(n_items, missing, dtype=np.float64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def cooc_scores(arrays: RecArrays, hist_items: np.ndarray) -> np.ndarray:
    """Sum over history items h of P(j | h) from the co-purchase table, for every item j."""
    n_items = len(arrays.item_ids)
    starts, ends = arrays.co_indptr[hist_items], arrays.co_indptr[hist_items + 1]
    if not len(hist_items) or int((ends - starts).sum()) == 0:
        return np.zeros(n_items)
    idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    owner = np.repeat(hist_items, ends - starts)
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


def build_candidates(arrays: RecArrays, unit_factors: F32, vector: F32, hist_items: np.ndarray,
                     hist_weights: np.ndarray, hist_times: np.ndarray, mask: np.ndarray,
                     segment: int | None, now: float,
                     config: CandidateConfig = CandidateConfig()) -> Candidates:
    """Merge the generators' top lists (allowed items only) and compute every feature."""
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
        if has_seg else np.zeros(0, np.int64),
    }
    items = np.unique(np.concatenate(list(lists.values())))
    ranks = {g: _ranks(order, n_items, np.inf)[items] for g, order in lists.items()}
    best = np.argmin(np.vstack([ranks[g] for g in GENERATORS]), axis=0)
    generator = [GENERATORS[b] for b in best.tolist()]
    n_gen = np.sum(np.vstack([np.isfinite(ranks[g]) for g in GENERATORS]), axis=0)
    feats = _features(arrays, unit_factors, items, (als, ease, cooc), hist_items, hist_weights,
                      hist_times, seg if has_seg else None, now, n_gen)
    return Candidates(items, feats, generator)


def _features(arrays: RecArrays, unit: F32, items: I64,
              scores: tuple[np.ndarray, np.ndarray, np.ndarray], hist_items: np.ndarray,
              hist_weights: np.ndarray, hist_times: np.ndarray, seg: np.ndarray | None,
              now: float, n_gen: np.ndarray) -> F32:
    n_items = len(arrays.item_ids)
    als, ease, cooc = scores
    als_rank = _ranks(np.argsort(-als, kind="stable"), n_items, np.nan)
    ease_rank = _ranks(np.argsort(-np.nan_to_num(ease, nan=-np.inf), kind="stable"), n_items,
                       np.nan)
    cooc_rank = _ranks(np.argsort(-cooc, kind="stable"), n_items, np.nan)
    pop = arrays.item_popularity.astype(np.float64)
    pop_rank = _ranks(np.argsort(-pop, kind="stable"), n_items, np.nan)
    knn, knn_recent, days_last = _history_features(unit, items, hist_items, hist_times, now)
    trend = arrays.item_trend[items].astype(np.float64)
    seg_share = seg[items] / max(float(seg.max()), 1.0) if seg is not None else \
        np.full(len(items), np.nan)
    price = arrays.item_price
    hist_price = price[hist_items] if len(hist_items) else np.zeros(0)
    usual = float(np.nanmean(hist_price)) if np.isfinite(hist_price).any() else np.nan
    cat_share, days = _category_features(arrays, items, hist_items, hist_weights, hist_times,
                                         now)
    covered = np.isfinite(ease[items])
    cols = [als[items], als_rank[items], ease[items], np.where(covered, ease_rank[items], np.nan),
            cooc[items], np.where(cooc[items] > 0, cooc_rank[items], np.nan), knn, knn_recent,
            np.log1p(pop[items]), pop_rank[items], np.log1p(trend), trend / (pop[items] + 1.0),
            seg_share, price[items] / usual, cat_share, days, np.full(len(items), days_last),
            np.full(len(items), np.log1p(len(hist_items))), n_gen]
    return np.column_stack(cols).astype(np.float32)


def _history_features(unit: F32, items: I64, hist_items: np.ndarray, hist_times: np.ndarray,
                      now: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Max cosine to the whole history and to the `RECENT` latest items; days since last event."""
    if not len(hist_items):
        return np.zeros(len(items)), np.zeros(len(items)), np.nan
    sims = unit[items] @ unit[hist_items].T
    latest = np.argsort(-hist_times, kind="stable")[:RECENT]
    days_last = (now - float(hist_times.max())) / DAY
    return sims.max(axis=1), sims[:, latest].max(axis=1), days_last


def _category_features(arrays: RecArrays, items: I64, hist_items: np.ndarray,
                       hist_weights: np.ndarray, hist_times: np.ndarray,
                       now: float) -> tuple[np.ndarray, np.ndarray]:
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
    return (np.where(cand_cat >= 0, share[safe], np.nan),
            np.where(cand_cat >= 0, days, np.nan))
