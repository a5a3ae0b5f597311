"""LightGBM lambdarank re-ranker: cross-fitted on validation customers, compared with ALS alone."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from features.runtime.rec_features import FEATURES
from training.recommender.candidates import RankingData
from training.recommender.evaluate import ranking_metrics

logger = logging.getLogger(__name__)

GRID: tuple[dict[str, Any], ...] = (
    {"num_leaves": 15, "min_data_in_leaf": 50, "learning_rate": 0.05},
    {"num_leaves": 31, "min_data_in_leaf": 20, "learning_rate": 0.05},
)
MAX_ROUNDS = 300
PATIENCE = 40  # rounds without a better held-out NDCG before a fold stops


@dataclass
class RankerOutcome:
    """The chosen ranker (a LightGBM text model), its params and the validation comparison."""

    model_text: str
    params: dict[str, Any]
    rounds: int
    metrics: dict[str, float]  # out-of-fold, same users as `als_metrics`
    als_metrics: dict[str, float]
    search: list[dict[str, Any]] = field(default_factory=list)


def _params(extra: dict[str, Any], num_threads: int, seed: int, k: int) -> dict[str, Any]:
    return {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [k],
            "lambdarank_truncation_level": 20, "feature_fraction": 0.9, "verbose": -1,
            "num_threads": num_threads, "seed": seed, "deterministic": True, **extra}


def _dataset(data: RankingData, group_mask: np.ndarray) -> Any:
    import lightgbm as lgb

    rows = data.rows_of(group_mask)
    return lgb.Dataset(data.features[rows], data.labels[rows], group=data.groups[group_mask],
                       feature_name=list(FEATURES), free_raw_data=False)


def _top_lists(data: RankingData, scores: np.ndarray, k: int) -> np.ndarray:
    out = np.full((len(data.groups), k), -1, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(data.groups)])
    for g in range(len(data.groups)):
        s, e = bounds[g], bounds[g + 1]
        order = np.argsort(-scores[s:e], kind="stable")[:k]
        out[g, :len(order)] = data.items[s:e][order]
    return out


def train_ranker(data: RankingData, truth: sp.csr_matrix, *, k: int = 10, num_threads: int = 1,
                 seed: int = 7) -> RankerOutcome:
    """Choose params and rounds by 2-fold cross-fitting over customers; refit on all of them.

    The out-of-fold lists are compared with ALS alone on the same customers, so the champion
    decision uses only the validation period.
    """
    import lightgbm as lgb

    fold = np.random.default_rng(seed).integers(0, 2, size=len(data.groups))
    has_pos = np.add.reduceat(data.labels, np.concatenate([[0], np.cumsum(data.groups)[:-1]])) > 0
    best: tuple[float, dict[str, Any], int, np.ndarray] | None = None
    search = []
    for extra in GRID:
        params = _params(extra, num_threads, seed, k)
        curves, boosters, oof = [], [], np.zeros(len(data.labels))
        for f in (0, 1):
            result: dict[str, Any] = {}
            boosters.append(lgb.train(
                params, _dataset(data, (fold != f) & has_pos), MAX_ROUNDS,
                valid_sets=[_dataset(data, (fold == f) & has_pos)],
                callbacks=[lgb.record_evaluation(result),
                           lgb.early_stopping(PATIENCE, first_metric_only=True, verbose=False)]))
            curves.append(np.asarray(result["valid_0"][f"ndcg@{k}"]))
        common = min(len(c) for c in curves)  # early stopping may end the folds apart
        rounds = int(np.argmax(np.mean([c[:common] for c in curves], axis=0))) + 1
        for f, booster in enumerate(boosters):  # out-of-fold scores at the chosen rounds
            rows = data.rows_of(fold == f)
            oof[rows] = booster.predict(data.features[rows], num_threads=num_threads,
                                        num_iteration=rounds)
        metrics = ranking_metrics(_top_lists(data, oof, k), truth, data.users, k,
                                  truth.shape[1])
        search.append({**extra, "rounds": rounds, **{f"oof_{m}": v for m, v in metrics.items()}})
        logger.info("ranker %s rounds=%d -> ndcg@%d=%.4f", extra, rounds, k, metrics["ndcg"])
        if best is None or metrics["ndcg"] > best[0]:
            best = (metrics["ndcg"], params, rounds, oof)
    assert best is not None
    _, params, rounds, oof = best
    final = lgb.train(params, _dataset(data, has_pos), rounds)
    als = ranking_metrics(data.als_top, truth, data.users, k, truth.shape[1])
    chosen = ranking_metrics(_top_lists(data, oof, k), truth, data.users, k, truth.shape[1])
    return RankerOutcome(final.model_to_string(), params, rounds, chosen, als, search)


def ranker_details(outcome: RankerOutcome, candidates: Any) -> dict[str, Any]:
    """What the manifest records about the ranker (the runtime checks `features`)."""
    return {"features": list(FEATURES), "candidates": asdict(candidates),
            "params": {k: v for k, v in outcome.params.items() if k != "ndcg_eval_at"},
            "rounds": outcome.rounds}
