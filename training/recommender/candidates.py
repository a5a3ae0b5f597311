"""Ranker training data: every validation customer's candidates, features and labels.

Candidates come from a model of the fit period only (ALS factors, co-purchases and popularity
of the fit events), via the runtime's own feature code and the runtime's own exclusion rule
(`default_allowed`: purchased items are left out, viewed/carted items may come back), so the
ranker is trained on the same kinds of candidates it ranks at serving time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from models.recommender.arrays import RecArrays, top_k
from models.recommender.candidates import CandidateConfig, build_candidates, popularity_rank
from models.recommender.catalog import default_allowed


@dataclass
class RankingData:
    """Stacked candidate rows of many users; `groups` gives each user's row count."""

    users: np.ndarray  # user index per group
    groups: np.ndarray
    items: np.ndarray  # candidate item per row
    features: np.ndarray
    labels: np.ndarray
    als_top: np.ndarray  # (n_users, k) ALS-alone top-k, for the comparison

    def rows_of(self, group_mask: np.ndarray) -> np.ndarray:
        """Boolean row mask selecting the groups in `group_mask`."""
        return np.repeat(group_mask, self.groups)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-9)).astype(np.float32)


def ranking_data(
    arrays: RecArrays,
    truth: sp.csr_matrix,
    now: float,
    *,
    k: int = 10,
    config: CandidateConfig | None = None,
    include_purchased: bool = False,
) -> RankingData:
    """Candidates and labels (1 = in the user's validation items) for users with truth.

    `include_purchased`: purchased items are candidates too (lists that may repeat them).
    One customer at a time, like serving: BLAS is held to one thread, whose siblings would
    only spin on these small products (several times the CPU on a loaded machine).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _ranking_data(arrays, truth, now, k, config or CandidateConfig(), include_purchased)


def _ranking_data(
    arrays: RecArrays,
    truth: sp.csr_matrix,
    now: float,
    k: int,
    config: CandidateConfig,
    include_purchased: bool,
) -> RankingData:
    unit = unit_rows(arrays.item_factors)
    pop_rank = popularity_rank(arrays)  # once, as serving does, not per customer
    n_items = len(arrays.item_ids)
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    groups, items, feats, labels, als_top = [], [], [], [], []
    for user in users.tolist():
        start, end = int(arrays.hist_indptr[user]), int(arrays.hist_indptr[user + 1])
        h_items = arrays.hist_items[start:end]
        mask = default_allowed(n_items, h_items, arrays.hist_events[start:end])
        if include_purchased:
            mask[:] = True
        vector = arrays.user_factors[user]
        cands = build_candidates(
            arrays,
            unit,
            vector,
            h_items,
            arrays.hist_weights[start:end],
            arrays.hist_times[start:end],
            mask,
            int(arrays.user_segment[user]),
            now,
            config,
            pop_rank,
        )
        relevant = truth.indices[truth.indptr[user] : truth.indptr[user + 1]]
        groups.append(len(cands.items))
        items.append(cands.items)
        feats.append(cands.features)
        labels.append(np.isin(cands.items, relevant).astype(np.float32))
        top = top_k(np.where(mask, arrays.item_factors @ vector, -np.inf), k)
        als_top.append(np.pad(top, (0, k - len(top)), constant_values=-1))
    return RankingData(
        users,
        np.asarray(groups, np.int64),
        np.concatenate(items),
        np.vstack(feats),
        np.concatenate(labels),
        np.vstack(als_top),
    )
