"""The recommender stage's cost at 1M customers, without changing a number it produces.

Validation picks the same lists as a full sort while scoring fewer items (every candidate kind
was scored and top-k sorted over the 50,000-item catalogue for each validation customer), and
the bundle's popularity arrays come from its history arrays (no second pass over the events).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from models.recommender.arrays import RecArrays
from tests.unit.training.test_recommender import planted_world
from training.recommender import evaluate
from training.recommender.als import ALSParams, fit_als
from training.recommender.artifacts import DAY, build_arrays, popularity, segment_popularity
from training.recommender.data import (
    Index,
    history_arrays,
    user_item_matrix,
    validate_interactions,
)
from training.recommender.ease import EASEParams, ease_scores, fit_ease
from training.recommender.select import BatchScorer
from training.recommender.tune import tune_als, tune_ease

FIXED = ALSParams(factors=8, iterations=5)


def _stable_top(scores: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    order[~np.isfinite(np.take_along_axis(scores, order, axis=1))] = -1
    return np.pad(order, ((0, 0), (0, k - order.shape[1])), constant_values=-1)


def test_top_k_rows_equals_a_stable_full_sort_with_ties_and_masked_rows() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(40, 30)).astype(np.float32)  # many ties
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    scores[0] = -np.inf  # nothing to recommend
    scores[1, 3:] = -np.inf  # fewer finite scores than k
    scores[2] = 1.0  # one tie across the row
    for k in (1, 5, 10, 35):
        assert np.array_equal(evaluate.top_k_rows(scores, k), _stable_top(scores, k))


@pytest.fixture(scope="module")
def world() -> tuple[RecArrays, sp.csr_matrix, sp.csr_matrix]:
    interactions, items, customers = planted_world(n_users=120, seed=4)
    df = validate_interactions(interactions, "test")
    users, item_idx = Index.of(df["customer_id"]), Index.of(df["item_id"])
    weights = user_item_matrix(df, users, item_idx)
    arrays = build_arrays(
        df,
        users,
        item_idx,
        fit_als(weights, FIXED),
        items_df=items,
        customers=customers,
        as_of=float(df["ts"].max()),
        ease=fit_ease(weights, EASEParams(lam=20.0, max_items=15, min_users=1)),
    )
    rng = np.random.default_rng(1)
    truth = sp.csr_matrix((rng.random(weights.shape) < 0.05).astype(np.float32))
    blocked = sp.csr_matrix(weights.multiply(rng.random(weights.shape) < 0.5))
    blocked.eliminate_zeros()
    return arrays, truth, blocked


@pytest.mark.parametrize("kind", ["popularity", "recent", "segment", "ease"])
@pytest.mark.parametrize("k", [3, 10])
def test_kinds_scored_on_their_columns_give_the_full_catalogue_metrics(
    world: tuple[RecArrays, sp.csr_matrix, sp.csr_matrix], kind: str, k: int
) -> None:
    arrays, truth, blocked = world
    scorer = BatchScorer(arrays)
    columns = scorer.kind_columns(kind, evaluate.exclusion_depth(blocked, truth, k))
    assert columns is not None and len(columns) < len(arrays.item_ids)
    full = evaluate.evaluate_scores(functools.partial(scorer.kind_scores, kind), blocked, truth, k)
    assert scorer.metrics(kind, truth, blocked, k) == full


def test_ease_search_on_covered_items_equals_the_full_catalogue_scores(
    world: tuple[RecArrays, sp.csr_matrix, sp.csr_matrix],
) -> None:
    _, truth, blocked = world
    interactions, _, _ = planted_world(n_users=120, seed=4)
    df = validate_interactions(interactions, "test")
    weights = user_item_matrix(df, Index.of(df["customer_id"]), Index.of(df["item_id"]))
    grid = [EASEParams(lam=lam, max_items=15, min_users=1) for lam in (5.0, 50.0)]
    best, trials, (items, b) = tune_ease(weights, truth, grid, k=5, exclude=blocked)
    for params, trial in zip(grid, trials, strict=True):
        covered, b_full = fit_ease(weights, params)
        scorer = functools.partial(ease_scores, weights, covered, b_full)
        full = evaluate.evaluate_scores(scorer, blocked, truth, 5)
        assert {m: trial[f"val_{m}"] for m in full} == pytest.approx(full)
    assert np.array_equal(items, fit_ease(weights, best)[0])
    assert np.array_equal(b, fit_ease(weights, best)[1])


def test_the_als_search_keeps_the_metrics_the_selection_would_measure_again(
    world: tuple[RecArrays, sp.csr_matrix, sp.csr_matrix],
) -> None:
    arrays, truth, _ = world
    weights = sp.csr_matrix(
        (arrays.hist_weights, arrays.hist_items, arrays.hist_indptr),
        shape=(len(arrays.user_ids), len(arrays.item_ids)),
    )
    search = tune_als(weights, truth, [ALSParams(factors=4, iterations=5), FIXED], k=5)
    best = max(search.trials, key=lambda t: float(t["val_ndcg"]))
    assert search.metrics == {m: best[f"val_{m}"] for m in search.metrics}
    fitted = replace(arrays, user_factors=search.factors[0], item_factors=search.factors[1])
    assert BatchScorer(fitted).metrics("als", truth, weights, 5) == search.metrics


def test_popularity_and_segments_from_the_history_count_distinct_customers() -> None:
    interactions, _, customers = planted_world(n_users=80, seed=5)
    df = validate_interactions(interactions, "test")
    users, items = Index.of(df["customer_id"]), Index.of(df["item_id"])
    indptr, h_items, _, _, h_t = history_arrays(df, users, items)
    as_of = float(df["ts"].max())
    pop, trend = popularity(h_items, h_t, len(items), as_of, trend_days=30.0)
    recent = df[df["ts"] >= as_of - 30.0 * DAY]
    for got, frame in ((pop, df), (trend, recent)):
        want = frame.groupby("item_id")["customer_id"].nunique()
        assert np.array_equal(got[items.lookup(want.index.to_series())], want.to_numpy())
        assert got.sum() == want.sum()
    names, seg_pop, user_seg = segment_popularity(indptr, h_items, customers, users, len(items))
    region = customers.set_index("customer_id")["region"].astype(str)
    joined = df.assign(region=df["customer_id"].map(region))
    for s, name in enumerate(names.tolist()):
        want = joined[joined["region"] == name].groupby("item_id")["customer_id"].nunique()
        assert np.array_equal(seg_pop[s][items.lookup(want.index.to_series())], want.to_numpy())
        assert seg_pop[s].sum() == want.sum()
    assert np.array_equal(names[user_seg], region.reindex(users.ids).to_numpy())
