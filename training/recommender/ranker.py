"""LightGBM lambdarank re-ranker: nested cross-fitting over validation customers.

The comparison with ALS must not be measured on the customers that chose the ranker's params and
number of rounds. Customers are split into two outer folds; for each outer fold, params and
rounds are chosen by a 2-fold cross-fit inside the *other* fold, a model with that choice is
trained there, and only then is the outer fold scored. The out-of-fold NDCG over all customers
is the ranker's honest validation number. The shipped model is trained on every customer with
the params both inner searches preferred and the rounds of a 2-fold cross-fit over all of them
(rounds chosen on half-data models suit a full-data model better than rounds from the
quarter-data inner models, which stop early).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from models.recommender.candidates import FEATURES
from training.recommender.candidates import RankingData
from training.recommender.evaluate import ranking_metrics

logger = logging.getLogger(__name__)

GRID: tuple[dict[str, Any], ...] = (
    {"num_leaves": 15, "min_data_in_leaf": 50, "learning_rate": 0.1},
    {"num_leaves": 31, "min_data_in_leaf": 20, "learning_rate": 0.1},
)
# Learning rate 0.1 (not 0.05) and a patience of 25 keep the nested search plus the final
# cross-fit (12 fits) about as fast as the former single cross-fit (5 fits at 0.05); on
# MovieLens the nested validation NDCG moved by 0.001 (docs/recommender.md).
MAX_ROUNDS = 200
PATIENCE = 25  # rounds without a better held-out NDCG before a fold stops
# Fewer validation customers with a hit among their candidates leave inner folds too small
# to fit and stop on; the ranker is then skipped (ALS is the champion).
MIN_CUSTOMERS = 40


@dataclass
class RankerOutcome:
    """The chosen ranker (a LightGBM text model), its params and the validation comparison."""

    model_text: str
    params: dict[str, Any]
    rounds: int
    metrics: dict[str, float]  # nested out-of-fold, same users as `als_metrics`
    als_metrics: dict[str, float]
    search: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RankerSetup:
    """What every fit shares: the candidate rows, the truth, k, threads and seed."""

    data: RankingData
    truth: sp.csr_matrix
    k: int
    num_threads: int
    seed: int
    has_pos: np.ndarray = field(init=False)
    _datasets: dict[bytes, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        starts = np.concatenate([[0], np.cumsum(self.data.groups)[:-1]])
        self.has_pos = np.add.reduceat(self.data.labels, starts) > 0

    def params(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "ndcg_eval_at": [self.k],
            "lambdarank_truncation_level": 20,
            "feature_fraction": 0.9,
            "verbose": -1,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "deterministic": True,
            **extra,
        }

    def dataset(self, group_mask: np.ndarray) -> Any:
        """The LightGBM dataset of these groups, built (binned) once and reused by the grid."""
        import lightgbm as lgb

        mask = group_mask & self.has_pos  # groups without a positive teach lambdarank nothing
        key = np.packbits(mask).tobytes()
        if key not in self._datasets:
            rows = self.data.rows_of(mask)
            # No pre-filter: it bakes min_data_in_leaf into the bins, which the grid varies.
            self._datasets[key] = lgb.Dataset(
                self.data.features[rows],
                self.data.labels[rows],
                group=self.data.groups[mask],
                feature_name=list(FEATURES),
                free_raw_data=False,
                params={"feature_pre_filter": False, "verbose": -1},
            )
        return self._datasets[key]

    def predict(self, booster: Any, group_mask: np.ndarray, rounds: int, out: np.ndarray) -> None:
        rows = self.data.rows_of(group_mask)
        out[rows] = booster.predict(
            self.data.features[rows], num_threads=self.num_threads, num_iteration=rounds
        )

    def metrics(self, scores: np.ndarray, group_mask: np.ndarray) -> dict[str, float]:
        tops = _top_lists(self.data, scores, self.k)[group_mask]
        return ranking_metrics(
            tops, self.truth, self.data.users[group_mask], self.k, self.truth.shape[1]
        )


def lightgbm_threads(requested: int) -> int:
    """`requested`, capped at the cores other processes leave idle (1-minute load average).

    Measured on the 2-core machine (100 rounds, 1.15M rows): 2 threads took 16 s vs 23 s
    with 1 when it was quiet, but 48-104 s vs 23-75 s with another job running (OpenMP
    threads wait on each other when a core is taken), so extra threads only go to idle cores.
    """
    busy = os.getloadavg()[0] - 1.0  # minus this process, busy for the last minute
    idle = max(1, int((os.cpu_count() or 1) - busy + 0.5))
    threads = max(1, min(requested, idle))
    logger.info(
        "LightGBM threads: %d (requested %d, load average %.1f)", threads, requested, busy + 1.0
    )
    return threads


def _top_lists(data: RankingData, scores: np.ndarray, k: int) -> np.ndarray:
    out = np.full((len(data.groups), k), -1, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(data.groups)])
    for g in range(len(data.groups)):
        s, e = bounds[g], bounds[g + 1]
        order = np.argsort(-scores[s:e], kind="stable")[:k]
        out[g, : len(order)] = data.items[s:e][order]
    return out


def _folds(n_groups: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=n_groups)


def _cross_fit(
    setup: RankerSetup, within: np.ndarray, extra: dict[str, Any]
) -> tuple[int, dict[str, float]]:
    """Rounds and out-of-fold metrics of one grid entry, by 2-fold cross-fitting in `within`."""
    import lightgbm as lgb

    inner = _folds(len(setup.data.groups), setup.seed + 1)
    params = setup.params(extra)
    curves, boosters = [], []
    for f in (0, 1):
        result: dict[str, Any] = {}
        boosters.append(
            lgb.train(
                params,
                setup.dataset(within & (inner != f)),
                MAX_ROUNDS,
                valid_sets=[setup.dataset(within & (inner == f))],
                callbacks=[
                    lgb.record_evaluation(result),
                    lgb.early_stopping(PATIENCE, first_metric_only=True, verbose=False),
                ],
            )
        )
        curves.append(np.asarray(result["valid_0"][f"ndcg@{setup.k}"]))
    common = min(len(c) for c in curves)  # early stopping may end the folds apart
    rounds = int(np.argmax(np.mean([c[:common] for c in curves], axis=0))) + 1
    oof = np.zeros(len(setup.data.labels))
    for f, booster in enumerate(boosters):
        setup.predict(booster, within & (inner == f), rounds, oof)
    return rounds, setup.metrics(oof, within)


def _search(
    setup: RankerSetup, within: np.ndarray, outer: int, grid: tuple[dict[str, Any], ...] = GRID
) -> list[dict[str, Any]]:
    """Each grid entry cross-fitted inside `within`; one record per entry (`outer` labels it)."""
    records = []
    for extra in grid:
        rounds, metrics = _cross_fit(setup, within, extra)
        records.append(
            {
                "outer_fold": outer,
                **extra,
                "rounds": rounds,
                **{f"inner_{m}": v for m, v in metrics.items()},
            }
        )
        logger.info(
            "ranker outer fold %d %s rounds=%d -> inner ndcg@%d=%.4f",
            outer,
            extra,
            rounds,
            setup.k,
            metrics["ndcg"],
        )
    return records


def _best(records: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """The grid entry with the best mean inner NDCG over `records`, with its mean rounds."""

    def entry(extra: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in records if all(r[key] == v for key, v in extra.items())]

    extra = max(GRID, key=lambda e: float(np.mean([r["inner_ndcg"] for r in entry(e)])))
    rounds = round(float(np.mean([r["rounds"] for r in entry(extra)])))
    return extra, max(rounds, 1)


def nested_scores(setup: RankerSetup) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Out-of-fold scores of every candidate row; no row's customer chose its params or rounds.

    Returns the scores and the inner search records of both outer folds.
    """
    import lightgbm as lgb

    outer = _folds(len(setup.data.groups), setup.seed)
    scores = np.zeros(len(setup.data.labels))
    search: list[dict[str, Any]] = []
    for f in (0, 1):
        records = _search(setup, outer != f, f)
        extra, rounds = _best(records)
        booster = lgb.train(setup.params(extra), setup.dataset(outer != f), rounds)
        setup.predict(booster, outer == f, rounds, scores)
        search += records
    return scores, search


def train_ranker(
    data: RankingData, truth: sp.csr_matrix, *, k: int = 10, num_threads: int = 1, seed: int = 7
) -> RankerOutcome | None:
    """Nested cross-fitted validation NDCG, ALS alone on the same customers, and the final model.

    The champion decision compares the two on lists that neither tuned the ranker nor were
    trained on. None when fewer than `MIN_CUSTOMERS` customers have a hit among candidates.
    """
    import lightgbm as lgb

    setup = RankerSetup(data, truth, k, lightgbm_threads(num_threads), seed)
    if int(setup.has_pos.sum()) < MIN_CUSTOMERS:
        logger.warning(
            "ranker skipped: %d validation customers with a hit among candidates (< %d)",
            int(setup.has_pos.sum()),
            MIN_CUSTOMERS,
        )
        return None
    everyone = np.ones(len(data.groups), dtype=bool)
    scores, search = nested_scores(setup)
    metrics = setup.metrics(scores, everyone)
    extra, _ = _best(search)
    final_search = _search(setup, everyone, -1, (extra,))  # -1: over every customer
    rounds = int(final_search[0]["rounds"])
    params = setup.params(extra)
    final = lgb.train(params, setup.dataset(everyone), rounds)
    als = ranking_metrics(data.als_top, truth, data.users, k, truth.shape[1])
    logger.info(
        "ranker %s rounds=%d: nested out-of-fold ndcg@%d=%.4f vs ALS %.4f",
        extra,
        rounds,
        k,
        metrics["ndcg"],
        als["ndcg"],
    )
    return RankerOutcome(
        final.model_to_string(), params, rounds, metrics, als, search + final_search
    )


def ranker_details(outcome: RankerOutcome, candidates: Any) -> dict[str, Any]:
    """What the manifest records about the ranker (the runtime checks `features`)."""
    return {
        "features": list(FEATURES),
        "candidates": asdict(candidates),
        "params": {k: v for k, v in outcome.params.items() if k != "ndcg_eval_at"},
        "rounds": outcome.rounds,
    }
