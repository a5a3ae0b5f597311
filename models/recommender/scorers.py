"""The recommender kinds a bundle can serve, and each simple kind's scores for one customer.

Training selects the champion among these kinds on a time-based validation
(`training/recommender/select.py` scores many customers at once with the same formulas; a unit
test checks both agree), and the runtime serves whichever won (`manifest.details["champion"]`).
"ranker" (LightGBM over the candidates of several generators) lives in `ranker.py`.
"""

from __future__ import annotations

import numpy as np

from models.recommender.arrays import F64, RecArrays, top_k
from models.recommender.candidates import cooc_scores, ease_scores
from models.recommender.catalog import Catalog
from models.recommender.state import History
from models.recommender.types import RecItem

# Simple kinds first: on a tie the simpler kind wins the selection.
SIMPLE_KINDS = ("popularity", "recent", "segment", "repeat", "item_knn", "ease", "als")
KINDS = (*SIMPLE_KINDS, "ranker")
# Items a kind cannot score (outside EASE's head, no co-purchase with the history) rank below
# every scored item, by popularity: the runtime's own "pad with popular items".
# FLOOR is small enough for float32 to keep the popularity order (validation scores are float32);
# EASE scores below it (items it strongly advises against) rank after the unscored items.
FLOOR = -2.0
FLOORED = ("item_knn", "ease")  # the kinds that leave items unscored
SOURCES = {
    "popularity": "popular",
    "recent": "trending",
    "segment": "segment_popular",
    "repeat": "repeat",
    "item_knn": "item_knn",
    "ease": "ease",
    "als": "als",
}
# Reasons of the kinds that do not depend on the customer's history.
PLAIN_REASONS = {
    "popularity": "popular",
    "recent": "trending now",
    "segment": "popular in your segment",
}


def popularity_share(arrays: RecArrays) -> F64:
    """Popularity scaled into [0, 1): a tie-breaker and the floor's order."""
    pop = arrays.item_popularity.astype(np.float64)
    share: F64 = pop / (float(pop.max(initial=0.0)) + 1.0)
    return share


def repeat_strength(weights: np.ndarray) -> np.ndarray:
    """Score of a history item for "repeat": 1 + log1p(summed weight), so always above 1.

    The summed weight grows with every purchase (10 each by default), so the items a customer
    buys again and again come first; new items follow by popularity (below 1).
    """
    return 1.0 + np.log1p(np.asarray(weights, dtype=np.float64))


def simple_scores(
    kind: str,
    arrays: RecArrays,
    vector: np.ndarray | None,
    hist_items: np.ndarray,
    hist_weights: np.ndarray,
    segment: int | None,
) -> F64:
    """Scores of every item for one customer under a simple kind (higher is better).

    Args:
        kind: One of `SIMPLE_KINDS`.
        arrays: The bundle's arrays.
        vector: The customer's ALS vector (needed by "als" only).
        hist_items: The customer's history item indices (any event).
        hist_weights: Their summed event weights.
        segment: The customer's segment index, if known.
    """
    share = popularity_share(arrays)
    if kind == "popularity":
        return share
    if kind == "recent":
        return arrays.item_trend.astype(np.float64) + share * 1e-3
    if kind == "segment":
        if segment is None or segment < 0 or not len(arrays.segments):
            return share
        seg: F64 = arrays.segment_popularity[segment].astype(np.float64) + share * 1e-3
        return seg
    if kind == "repeat":
        out = share.copy()
        out[hist_items] = repeat_strength(hist_weights)
        return out
    if kind == "item_knn":
        cooc = cooc_scores(arrays, np.asarray(hist_items, dtype=np.int64))
        return np.where(cooc > 0, cooc, FLOOR + share)
    if kind == "ease":
        ease = ease_scores(arrays, np.asarray(hist_items, dtype=np.int64))
        return np.where(np.isfinite(ease), ease, FLOOR + share)
    if kind == "als":
        if vector is None:
            return share
        als: F64 = (arrays.item_factors @ vector).astype(np.float64)
        return als
    raise ValueError(f"unknown recommender kind {kind!r}; expected one of {list(SIMPLE_KINDS)}")


def simple_list(
    kind: str,
    catalog: Catalog,
    vector: np.ndarray,
    history: History,
    mask: np.ndarray,
    k: int,
    segment: int | None,
) -> list[RecItem]:
    """A simple kind's top-k allowed items with reasons; unscored items are left to padding."""
    scores = simple_scores(kind, catalog.arrays, vector, history.items, history.weights, segment)
    if kind in FLOORED:
        mask = mask & (scores >= FLOOR + 1.0)
    picks = top_k(np.where(mask, scores, -np.inf), k)
    reason = PLAIN_REASONS.get(kind)
    if reason is not None:
        return [
            RecItem(catalog.ids[i], float(scores[i]), reason, SOURCES[kind]) for i in picks.tolist()
        ]
    return catalog.because(picks, scores, history, SOURCES[kind])
