"""Champion selection among every simple kind the runtime serves, on the time-based validation.

Each kind is scored for many validation customers at once from the *fit-period* bundle arrays,
with the formulas of `models/recommender/scorers.py` in batch form (a unit test checks they
agree with the runtime's per-customer scores), in float32 batches with `argpartition`
(`evaluate.evaluate_scores`). The ranker is compared with the best of them afterwards, on its
own customers (`train._champion`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from models.recommender.arrays import RecArrays
from models.recommender.scorers import FLOOR, SIMPLE_KINDS, popularity_share, repeat_strength
from training.recommender.evaluate import evaluate_scores, exclusion_depth

logger = logging.getLogger(__name__)


def knn_matrix(arrays: RecArrays) -> sp.csr_matrix:
    """Items x items P(j | h): the co-purchase top-N per item as a sparse neighbour matrix."""
    n = len(arrays.item_ids)
    owner = np.repeat(np.arange(n), np.diff(arrays.co_indptr))
    data = arrays.co_counts / np.maximum(arrays.item_buyers[owner], 1.0)
    return sp.csr_matrix((data, arrays.co_items, arrays.co_indptr), shape=(n, n))


@dataclass
class BatchScorer:
    """Every simple kind's scores for a batch of users, from one set of bundle arrays."""

    arrays: RecArrays
    hist: sp.csr_matrix = field(init=False)  # users x items summed weights
    seen: sp.csr_matrix = field(init=False)  # the same, binary
    knn: sp.csr_matrix = field(init=False)
    share: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        a = self.arrays
        shape = (len(a.user_ids), len(a.item_ids))
        self.hist = sp.csr_matrix((a.hist_weights, a.hist_items, a.hist_indptr), shape=shape)
        self.seen = sp.csr_matrix(
            (np.ones(len(a.hist_items), np.float32), a.hist_items, a.hist_indptr), shape=shape
        )
        self.knn = knn_matrix(a)
        self.share = popularity_share(a).astype(np.float32)

    def available(self, include_purchased: bool) -> dict[str, str]:
        """The kinds this data cannot support, with the reason (logged and recorded)."""
        a = self.arrays
        skipped = {}
        if not len(a.segments):
            skipped["segment"] = "no customer segments (customers.region)"
        if not len(a.ease_items):
            skipped["ease"] = "EASE not trained (--no-ease or fewer than 2 items in its head)"
        if not len(a.co_items):
            skipped["item_knn"] = "no co-purchases"
        if not include_purchased:
            skipped["repeat"] = "purchased items are excluded (train with --include-purchased)"
        return skipped

    def kind_columns(self, kind: str, depth: int) -> np.ndarray | None:
        """Items that hold every customer's top k of `kind` (None: every item).

        Popularity, recent and segment give each customer one of a few shared score vectors;
        with at most `depth - k` items masked (`evaluate.exclusion_depth`), the top `depth`
        items of each vector (ties included) hold the top k. EASE adds its own items to the
        top `depth` of the rest, which keep their floor (popularity) order.
        """
        a = self.arrays
        if kind == "popularity":
            return _head(self.share, depth)
        if kind == "recent":
            return _head(self._recent(), depth)
        if kind == "segment":
            rows = [self.share, *(a.segment_popularity + self.share * 1e-3)]
            return functools.reduce(np.union1d, [_head(row, depth) for row in rows])
        if kind == "ease":
            rest = np.float32(FLOOR) + self.share
            rest[a.ease_items] = -np.inf
            return np.union1d(a.ease_items, _head(rest, depth))
        return None

    def kind_scores(
        self, kind: str, users: np.ndarray, columns: np.ndarray | None = None
    ) -> np.ndarray:
        """(len(users), n_items) float32 scores of `kind` (see `scorers.simple_scores`).

        `columns`: the scores of these items only (popularity, recent, segment, EASE; see
        `kind_columns`).
        """
        a, n = self.arrays, len(users)
        cols = slice(None) if columns is None else columns
        share = self.share[cols]
        if kind == "popularity":
            return np.tile(share, (n, 1))
        if kind == "recent":
            return np.tile(self._recent()[cols], (n, 1))
        if kind == "segment":
            seg = a.user_segment[users]
            out = np.tile(share, (n, 1))
            known = seg >= 0
            out[known] = a.segment_popularity[seg[known]][:, cols] + share * 1e-3
            return out
        if kind == "repeat":
            out = np.tile(self.share, (n, 1))
            chunk = self.hist[users].tocoo()
            out[chunk.row, chunk.col] = repeat_strength(chunk.data)
            return out
        if kind == "item_knn":
            cooc = np.asarray((self.seen[users] @ self.knn).todense(), dtype=np.float32)
            return np.where(cooc > 0, cooc, np.float32(FLOOR) + self.share)
        if kind == "ease":
            out = np.tile(np.float32(FLOOR) + share, (n, 1))
            x = self.seen[users][:, a.ease_items]
            at = a.ease_items if columns is None else np.searchsorted(columns, a.ease_items)
            out[:, at] = np.asarray(x @ a.ease_weights, dtype=np.float32)
            return out
        if kind == "als":
            als: np.ndarray = a.user_factors[users] @ a.item_factors.T
            return als
        raise ValueError(f"unknown recommender kind {kind!r}")

    def _recent(self) -> np.ndarray:
        return (self.arrays.item_trend + self.share * 1e-3).astype(np.float32)

    def metrics(
        self, kind: str, truth: sp.csr_matrix, blocked: sp.csr_matrix, k: int
    ) -> dict[str, float]:
        """`kind`'s metrics@k, scored on its `kind_columns` when it has them."""
        columns = self.kind_columns(kind, exclusion_depth(blocked, truth, k))
        score = functools.partial(self.kind_scores, kind, columns=columns)
        return evaluate_scores(score, blocked, truth, k, columns=columns)


def _head(scores: np.ndarray, depth: int) -> np.ndarray:
    """Sorted indices of the `depth` best finite scores, with every item tied with the last."""
    if depth >= len(scores):
        return np.flatnonzero(np.isfinite(scores))
    kth = np.partition(scores, len(scores) - depth)[len(scores) - depth]
    return np.flatnonzero((scores >= kth) & np.isfinite(scores))


def validate_kinds(
    arrays: RecArrays,
    truth: sp.csr_matrix,
    blocked: sp.csr_matrix,
    *,
    k: int,
    kinds: tuple[str, ...] = SIMPLE_KINDS,
    include_purchased: bool = False,
    measured: dict[str, dict[str, float]] | None = None,
) -> tuple[str, dict[str, dict[str, float]], dict[str, str]]:
    """Metrics@k of every available simple kind; the best by NDCG (ties: the simpler kind).

    `measured`: kinds already scored on this truth and mask with these arrays' models (ALS: its
    search's best trial), taken as they are instead of scored again.
    Returns the best kind, every kind's metrics and the skipped kinds with their reasons.
    """
    scorer = BatchScorer(arrays)
    skipped = scorer.available(include_purchased)
    validation: dict[str, dict[str, float]] = {}
    for kind in (k_ for k_ in SIMPLE_KINDS if k_ in kinds):
        if kind in skipped:
            logger.info("candidate %s skipped: %s", kind, skipped[kind])
            continue
        known = (measured or {}).get(kind)
        validation[kind] = dict(known) if known else scorer.metrics(kind, truth, blocked, k)
        logger.info("candidate %s -> ndcg@%d=%.4f", kind, k, validation[kind]["ndcg"])
    if not validation:
        raise ValueError(f"no recommender candidate can be trained on this data: {skipped}")
    best = max(validation, key=lambda kind: (validation[kind]["ndcg"], -SIMPLE_KINDS.index(kind)))
    return best, validation, {k_: v for k_, v in skipped.items() if k_ in kinds}


def kind_metrics(
    arrays: RecArrays, kind: str, truth: sp.csr_matrix, blocked: sp.csr_matrix, k: int
) -> dict[str, float]:
    """One kind's metrics on another truth (the ranker's customers)."""
    return BatchScorer(arrays).metrics(kind, truth, blocked, k)
