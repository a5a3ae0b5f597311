"""The cheaper serving path of the ranker's features gives exactly the old features and results.

The reference implementations below are the code before the speed-up (full-catalogue stable
argsorts and a Python loop of `np.arange`s); they live here, not in the package.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.bundle import read_manifest, write_manifest
from models.recommender import candidates as rec_features
from models.recommender.arrays import RecArrays
from models.recommender.candidates import (
    FEATURES,
    FULL_SORT_RATIO,
    build_candidates,
    cooc_scores,
    popularity_rank,
    ranks_of,
)
from models.recommender.model import RecentEvent, RecFilters, RecommenderModel
from tests.unit.training.test_recommender import planted_world
from training.recommender.als import ALSParams
from training.recommender.train import TrainParams, train_recommender

USERS = ("u0", "u2", "u3", "u5", "u6", "u7", "u11", "u42")
RANK_COLUMNS = ("als_rank", "ease_rank", "cooc_rank", "pop_rank")


def old_ranks(order: np.ndarray, n_items: int) -> np.ndarray:
    ranks = np.full(n_items, np.nan, dtype=np.float64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def old_ranks_of(key: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The old computation: a full stable argsort of the key, then the candidates' entries."""
    ranks: np.ndarray = old_ranks(np.argsort(key, kind="stable"), len(key))[items]
    return ranks


def old_cooc_scores(arrays: RecArrays, hist_items: np.ndarray) -> np.ndarray:
    n_items = len(arrays.item_ids)
    starts, ends = arrays.co_indptr[hist_items], arrays.co_indptr[hist_items + 1]
    if not len(hist_items) or int((ends - starts).sum()) == 0:
        return np.zeros(n_items)
    idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    owner = np.repeat(hist_items, ends - starts)
    weights = arrays.co_counts[idx] / np.maximum(arrays.item_buyers[owner], 1.0)
    return np.bincount(arrays.co_items[idx], weights=weights, minlength=n_items)


def old_rank_columns(
    arrays: RecArrays, vector: np.ndarray, hist_items: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """als/ease/cooc/pop rank columns exactly as the old `_features` computed them."""
    n = len(arrays.item_ids)
    als = (arrays.item_factors @ vector).astype(np.float64)
    ease = rec_features.ease_scores(arrays, hist_items)
    cooc = old_cooc_scores(arrays, hist_items)
    pop = arrays.item_popularity.astype(np.float64)
    als_rank = old_ranks(np.argsort(-als, kind="stable"), n)
    ease_rank = old_ranks(np.argsort(-np.nan_to_num(ease, nan=-np.inf), kind="stable"), n)
    cooc_rank = old_ranks(np.argsort(-cooc, kind="stable"), n)
    pop_rank = old_ranks(np.argsort(-pop, kind="stable"), n)
    covered = np.isfinite(ease[items])
    cols = [
        als_rank[items],
        np.where(covered, ease_rank[items], np.nan),
        np.where(cooc[items] > 0, cooc_rank[items], np.nan),
        pop_rank[items],
    ]
    return np.column_stack(cols).astype(np.float32)


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory) -> RecommenderModel:
    interactions, items, customers = planted_world()
    out = tmp_path_factory.mktemp("rec_speed") / "bundle"
    params = TrainParams(als=ALSParams(factors=16, regularization=0.1, alpha=5.0, iterations=15))
    train_recommender(interactions, items, out, customers=customers, params=params)
    manifest = read_manifest(out)
    manifest.details["champion"] = "ranker"  # exercise the ranker path whatever validation chose
    write_manifest(out, manifest)
    model = RecommenderModel.load(out)
    assert model.ranker is not None
    return model


@pytest.mark.parametrize("seed", range(4))
def test_ranks_of_buckets_a_large_catalogue_as_a_stable_argsort_ranks_it(seed: int) -> None:
    # Under FULL_SORT_RATIO times the items `ranks_of` takes the full sort; these catalogues are
    # larger, so the bucketing path answers (ties, infinities and -0.0 included).
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2000, 5000))
    key = rng.integers(-5, 6, n).astype(np.float64)
    key[rng.random(n) < 0.1] = np.inf
    key[rng.random(n) < 0.1] = -np.inf
    key[rng.random(n) < 0.1] = -0.0
    key += rng.random(n) * (rng.random(n) < 0.5)
    items = np.unique(rng.integers(0, n, int(rng.integers(1, n // (2 * FULL_SORT_RATIO)))))
    assert n > FULL_SORT_RATIO * len(items)
    assert np.array_equal(ranks_of(key, items), old_ranks_of(key, items))


@pytest.mark.parametrize("seed", range(6))
def test_ranks_of_matches_a_stable_argsort_with_ties_and_infinities(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    key = rng.integers(-5, 6, n).astype(np.float64)  # many ties
    key[rng.random(n) < 0.1] = np.inf
    key[rng.random(n) < 0.1] = -np.inf
    key[rng.random(n) < 0.1] = -0.0
    if seed % 2:
        key += rng.random(n) * (rng.random(n) < 0.5)  # mix of unique and tied keys
    items = np.unique(rng.integers(0, n, int(rng.integers(1, n + 1))))
    assert np.array_equal(ranks_of(key, items), old_ranks_of(key, items))
    assert ranks_of(key, np.zeros(0, np.int64)).shape == (0,)
    key[rng.integers(0, n, 3)] = np.nan  # falls back to the full sort, NaN last
    assert np.array_equal(ranks_of(key, items), old_ranks_of(key, items))
    assert ranks_of(key, np.zeros(0, np.int64)).shape == (0,)


def test_cooc_scores_match_the_loop(ranked: RecommenderModel) -> None:
    arrays = ranked.arrays
    rng = np.random.default_rng(0)
    n = len(arrays.item_ids)
    for size in (0, 1, 3, 10, 25):
        hist = rng.integers(0, n, size)
        assert np.array_equal(cooc_scores(arrays, hist), old_cooc_scores(arrays, hist))
    assert np.array_equal(
        popularity_rank(arrays),
        old_ranks_of(-arrays.item_popularity.astype(np.float64), np.arange(n)),
    )


def test_feature_matrix_equals_the_old_one(ranked: RecommenderModel) -> None:
    arrays, catalog = ranked.arrays, ranked.catalog
    cols = [FEATURES.index(c) for c in RANK_COLUMNS]
    for user in USERS:
        vector, history = ranked.user_vector(ranked.online_state(user), [])
        assert vector is not None
        mask = catalog.allowed(RecFilters(), history)
        args = (
            arrays,
            catalog.unit_factors,
            vector,
            history.items,
            history.weights,
            history.times,
            mask,
            catalog.segment_index(None),
            1e9,
        )
        new = build_candidates(*args, pop_rank=catalog.pop_rank)
        assert np.array_equal(build_candidates(*args).features, new.features, equal_nan=True)
        old = new.features.copy()
        old[:, cols] = old_rank_columns(arrays, vector, history.items, new.items)
        old[:, FEATURES.index("cooc_score")] = old_cooc_scores(arrays, history.items)[
            new.items
        ].astype(np.float32)
        assert np.array_equal(new.features, old, equal_nan=True), user
        assert np.isfinite(new.features[:, cols[2]]).any()  # cooc ranks were exercised


def test_recommend_results_are_unchanged(
    ranked: RecommenderModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    recent = [RecentEvent("i31", "purchase", 1e10), RecentEvent("i5", "view", 1e10 + 1)]
    cases = [
        (u, ev, f)
        for u in USERS
        for ev in ([], recent)
        for f in (RecFilters(), RecFilters(category="cat1"), RecFilters(price_max=30.0))
    ]
    new = [ranked.recommend(ranked.online_state(u), ev, 10, f) for u, ev, f in cases]
    monkeypatch.setattr(rec_features, "ranks_of", old_ranks_of)
    monkeypatch.setattr(rec_features, "cooc_scores", old_cooc_scores)
    monkeypatch.setattr(
        ranked.catalog,
        "pop_rank",
        old_ranks_of(
            -ranked.arrays.item_popularity.astype(np.float64), np.arange(len(ranked.catalog))
        ),
    )
    old = [ranked.recommend(ranked.online_state(u), ev, 10, f) for u, ev, f in cases]
    assert any(r.items for r in new)
    assert all(r.items and r.items[0].source.startswith("ranker:") for r in new if r.items)
    assert new == old
