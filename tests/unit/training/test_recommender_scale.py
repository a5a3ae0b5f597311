"""Recommender training at scale: sampled validation, batched top-k, no refit, trial budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from tests.unit.training.test_recommender import planted_world
from training.recommender import evaluate, train, tune
from training.recommender.als import ALSParams


def _truth(n_users: int = 500, n_items: int = 40, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.05).astype(np.float32)
    dense[::7] = 0.0  # customers without validation events
    return sp.csr_matrix(dense)


def test_sample_truth_is_seeded_bounded_and_keeps_rows_intact() -> None:
    truth = _truth()
    sample = evaluate.sample_truth(truth, 100, seed=3)
    kept = evaluate.users_with_truth(sample)
    assert len(kept) == 100
    assert set(kept.tolist()) <= set(evaluate.users_with_truth(truth).tolist())
    assert (sample[kept] != truth[kept]).nnz == 0  # the kept customers' items are unchanged
    again = evaluate.users_with_truth(evaluate.sample_truth(truth, 100, seed=3))
    other = evaluate.users_with_truth(evaluate.sample_truth(truth, 100, seed=4))
    assert np.array_equal(kept, again) and not np.array_equal(kept, other)
    assert evaluate.sample_truth(truth, 10_000) is truth  # nothing to drop


def _dense_reference(
    scores: np.ndarray, seen: sp.csr_matrix, truth: sp.csr_matrix, k: int
) -> dict[str, float]:
    """The former evaluation: one dense float64 matrix, a full stable sort per row."""
    full = scores.astype(np.float64)
    full[seen.toarray() > 0] = -np.inf
    users = evaluate.users_with_truth(truth)
    order = np.argsort(-full[users], axis=1, kind="stable")[:, :k]
    order[~np.isfinite(np.take_along_axis(full[users], order, axis=1))] = -1
    return evaluate.ranking_metrics(order, truth, users, k, truth.shape[1])


def test_batched_float32_evaluation_equals_the_dense_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    n_users, n_items = 60, 40
    # Distinct small integers: exact in float32, so no tie can order the two differently.
    scores = np.stack([rng.permutation(n_items) for _ in range(n_users)]).astype(np.float64)
    seen = sp.csr_matrix((rng.random((n_users, n_items)) < 0.3).astype(np.float32))
    truth = _truth(n_users, n_items, seed=2)
    monkeypatch.setattr(evaluate, "BATCH_CELLS", 7 * n_items)  # batches of 7 customers
    calls: list[int] = []

    def score_fn(users: np.ndarray) -> np.ndarray:
        calls.append(len(users))
        return scores[users]

    got = evaluate.evaluate_scores(score_fn, seen, truth, k=5)
    assert max(calls) == 7 and len(calls) > 1
    assert got == pytest.approx(_dense_reference(scores, seen, truth, 5))


def test_fixed_params_fit_als_once_then_warm_start_the_final_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[bool] = []
    queries: list[int] = []
    real_fit, real_ranker = tune.fit_als, train.train_ranker

    def counting_fit(*args: Any, **kwargs: Any) -> Any:
        fits.append(kwargs.get("warm") is not None)
        return real_fit(*args, **kwargs)

    def capturing_ranker(data: Any, *args: Any, **kwargs: Any) -> Any:
        queries.append(len(data.groups))
        return real_ranker(data, *args, **kwargs)

    monkeypatch.setattr(tune, "fit_als", counting_fit)
    monkeypatch.setattr(train, "fit_als", counting_fit)
    monkeypatch.setattr(train, "train_ranker", capturing_ranker)
    interactions, items, customers = planted_world(120)
    params = train.TrainParams(
        als=ALSParams(factors=8, iterations=3), ease_lams=(), ranker_users=50
    )
    train.train_recommender(
        interactions, items, tmp_path / "bundle", customers=customers, params=params
    )
    assert fits == [False, True]  # the validation fit (reused by the ranker), the warm final
    assert queries == [50]  # the ranker's customers are the bounded sample


def test_time_budget_is_kept_by_counting_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]

    def fake_fit(
        weights: sp.csr_matrix, params: ALSParams, num_threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        now[0] += 10.0  # every trial "takes" 10 s on the fake clock
        rng = np.random.default_rng(params.factors + int(params.regularization * 100))
        return (
            rng.random((weights.shape[0], 4), dtype=np.float32),
            rng.random((weights.shape[1], 4), dtype=np.float32),
        )

    monkeypatch.setattr(tune, "fit_als", fake_fit)
    weights, truth = _truth(80, 30, seed=5), _truth(80, 30, seed=6)
    budgeted = tune.search_als(weights, truth, 12, budget=tune.Budget(35.0, lambda: now[0]))
    assert len(budgeted.trials) == 3  # a 4th would end at 40 s > 35 s
    # Half the budget explores (one random trial here); the rest refines around the best one,
    # instead of the random phase using it all (the 100k world lost 2.3% NDCG@10 that way).
    moves = [p.as_dict() for p in tune.neighbours(tune.default_grid(8)[0])]
    assert all({key: t[key] for key in moves[0]} in moves for t in budgeted.trials[1:])
    unbounded = tune.search_als(weights, truth, 12, budget=tune.Budget(None, lambda: now[0]))
    assert len(unbounded.trials) > 3
    first = tune.search_als(weights, truth, 12, budget=tune.Budget(1.0, lambda: now[0]))
    assert len(first.trials) == 1  # the first trial always runs
