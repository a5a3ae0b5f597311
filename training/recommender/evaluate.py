"""Top-k ranking metrics (precision, recall, NDCG, MAP, coverage) and a comparison plot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

METRICS = ("precision", "recall", "ndcg", "map", "coverage")
ScoreFn = Callable[[np.ndarray], np.ndarray]  # user indices -> (len, n_items) scores
# Scores per evaluation batch: 2^23 float32 = 32 MB, e.g. 167 users x 50,000 items.
BATCH_CELLS = 1 << 23


def ranking_metrics(
    recs: np.ndarray, truth: sp.csr_matrix, users: np.ndarray, k: int, n_items: int
) -> dict[str, float]:
    """Mean metrics@k over `users`; `recs` holds their top-k item indices (-1 = empty slot).

    MAP@k divides by min(|relevant|, k); NDCG uses binary gains. Coverage is the share of the
    catalogue appearing in any list.
    """
    hits = np.zeros(recs.shape, dtype=bool)
    n_rel = np.zeros(len(users), dtype=np.float64)
    for row, user in enumerate(users.tolist()):
        relevant = truth.indices[truth.indptr[user] : truth.indptr[user + 1]]
        n_rel[row] = len(relevant)
        hits[row] = np.isin(recs[row], relevant) & (recs[row] >= 0)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    discounts = 1.0 / np.log2(ranks + 1.0)
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.array([discounts[: int(min(n, k))].sum() for n in n_rel])
    prec_at = np.cumsum(hits, axis=1) / ranks
    ap = (prec_at * hits).sum(axis=1) / np.maximum(np.minimum(n_rel, k), 1.0)
    valid = recs[recs >= 0]
    return {
        "precision": float(hits.sum(axis=1).mean() / k),
        "recall": float((hits.sum(axis=1) / np.maximum(n_rel, 1.0)).mean()),
        "ndcg": float((dcg / np.maximum(ideal, 1e-12)).mean()),
        "map": float(ap.mean()),
        "coverage": float(len(np.unique(valid)) / max(n_items, 1)),
    }


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise top-k indices (best first); -inf entries never count as picks (-1)."""
    k_eff = min(k, scores.shape[1])
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    picks = np.take_along_axis(part, order, axis=1)
    picks[~np.isfinite(np.take_along_axis(part_scores, order, axis=1))] = -1
    if k_eff < k:
        picks = np.hstack([picks, np.full((len(picks), k - k_eff), -1)])
    return picks


def users_with_truth(truth: sp.csr_matrix) -> np.ndarray:
    """Indices of the rows of `truth` that hold at least one item."""
    return np.flatnonzero(np.diff(truth.indptr) > 0)


def sample_truth(truth: sp.csr_matrix, max_users: int | None, seed: int = 0) -> sp.csr_matrix:
    """`truth` with only a seeded sample of at most `max_users` non-empty rows kept.

    Metrics and the ranker's queries then cost O(max_users), not O(customers): a mean over
    20,000 customers has a standard error far below the gaps between candidate models.
    """
    users = users_with_truth(truth)
    if max_users is None or len(users) <= max_users:
        return truth
    keep = np.sort(np.random.default_rng(seed).choice(users, size=max_users, replace=False))
    mask = np.zeros(truth.shape[0], dtype=truth.dtype)
    mask[keep] = 1
    sampled: sp.csr_matrix = sp.csr_matrix(sp.diags(mask) @ truth)
    sampled.eliminate_zeros()
    return sampled


def evaluate_scores(
    score_fn: ScoreFn, seen: sp.csr_matrix, truth: sp.csr_matrix, k: int = 10, batch: int = 1024
) -> dict[str, float]:
    """Metrics of a scorer over users with held-out items; items seen in training are masked.

    Scores are float32 and batches hold at most `BATCH_CELLS` scores, so memory stays bounded
    whatever the catalogue size (pass a `sample_truth` to bound the number of users).
    """
    users = users_with_truth(truth)
    recs = np.full((len(users), k), -1, dtype=np.int64)
    batch = max(1, min(batch, BATCH_CELLS // max(truth.shape[1], 1)))
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        scores = np.asarray(score_fn(chunk), dtype=np.float32)
        seen_chunk = seen[chunk]
        rows = np.repeat(np.arange(len(chunk)), np.diff(seen_chunk.indptr))
        scores[rows, seen_chunk.indices] = -np.inf
        recs[start : start + len(chunk)] = top_k_rows(scores, k)
    return ranking_metrics(recs, truth, users, k, truth.shape[1])


def plot_comparison(results: dict[str, dict[str, float]], path: Path, k: int = 10) -> Path:
    """Grouped bar chart of the metrics of several models (e.g. popularity, als, ranker)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(METRICS))
    for j, name in enumerate(names):
        values = [results[name].get(m, 0.0) for m in METRICS]
        ax.bar(x + j * width, values, width, label=name)
    ax.set_xticks(x + width * (len(names) - 1) / 2, [f"{m}@{k}" for m in METRICS])
    ax.set_ylabel("validation score")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
