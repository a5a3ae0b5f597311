"""The recommender bundle and runtime internals (behaviour tests live in tests/model/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.bundle import BundleError, read_manifest, write_manifest
from models.recommender.arrays import ARRAYS_FILE, RANKER_FILE, load_arrays
from models.recommender.candidates import FEATURES, build_candidates
from models.recommender.model import (
    RecFilters,
    RecommenderModel,
)
from models.recommender.types import STATE_MODEL
from tests.unit.training.test_recommender import PER_CLUSTER, planted_world
from training.recommender.als import ALSParams
from training.recommender.train import TrainParams, train_recommender

ALL = RecFilters()


def cluster(item_id: str) -> int:
    return int(item_id[1:]) // PER_CLUSTER


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    interactions, items, customers = planted_world()
    out = tmp_path_factory.mktemp("rec") / "bundle"
    params = TrainParams(
        als=ALSParams(factors=16, regularization=0.1, alpha=5.0, iterations=15), ranker=False
    )
    train_recommender(interactions, items, out, customers=customers, params=params)
    return out


@pytest.fixture(scope="module")
def model(bundle: Path) -> RecommenderModel:
    return RecommenderModel.load(bundle)


def test_bundle_round_trip_without_pickle(bundle: Path, model: RecommenderModel) -> None:
    with np.load(bundle / ARRAYS_FILE, allow_pickle=False) as data:
        assert "item_factors" in data.files
    arrays = load_arrays(bundle)
    assert np.array_equal(arrays.item_factors, model.arrays.item_factors)
    reloaded = RecommenderModel.load(bundle)
    state = reloaded.online_state("u7")
    assert [i.item_id for i in reloaded.recommend(state, [], 5, ALL).items] == [
        i.item_id for i in model.recommend(model.online_state("u7"), [], 5, ALL).items
    ]
    stale = dict(state, **{STATE_MODEL: b"another-model"})
    assert reloaded.recommend(stale, [], 3, ALL).fallback == "popular"


def test_ranker_champion_reranks_within_the_cluster(tmp_path: Path) -> None:
    interactions, items, customers = planted_world()
    out = tmp_path / "bundle"
    params = TrainParams(als=ALSParams(factors=16, regularization=0.1, alpha=5.0, iterations=15))
    result = train_recommender(interactions, items, out, customers=customers, params=params)
    assert (out / RANKER_FILE).is_file() and "ranker" in result.validation
    manifest = read_manifest(out)
    manifest.details["champion"] = "ranker"  # force the runtime path whatever validation chose
    write_manifest(out, manifest)
    ranked = RecommenderModel.load(out)
    assert ranked.ranker is not None
    result_u2 = ranked.recommend(ranked.online_state("u2"), [], 4, RecFilters(category="cat2"))
    assert result_u2.items and all(cluster(i.item_id) == 2 for i in result_u2.items)
    top = ranked.recommend(ranked.online_state("u6"), [], 3, ALL)
    assert all(i.source.startswith("ranker:") and i.reason for i in top.items)
    assert sum(cluster(i.item_id) == 2 for i in top.items) >= 2
    # EASE was tuned on validation (one trial per lambda) and ships with the bundle.
    assert result.ease is not None and len(result.ease_trials) == len(params.ease_lams)
    assert manifest.details["ease"]["lam"] == result.ease.lam
    arrays = ranked.arrays
    assert len(arrays.ease_items) == len(arrays.item_ids)  # 40 items: all covered
    _ease_feature_is_the_sum_of_history_rows(ranked)


def _ease_feature_is_the_sum_of_history_rows(model: RecommenderModel) -> None:
    arrays = model.arrays
    vector, history = model.user_vector(model.online_state("u6"), [])
    assert vector is not None
    mask = np.ones(len(arrays.item_ids), dtype=bool)
    mask[history.items] = False
    cands = build_candidates(
        arrays,
        model.catalog.unit_factors,
        vector,
        history.items,
        history.weights,
        history.times,
        mask,
        None,
        0.0,
    )
    pos = np.searchsorted(arrays.ease_items, cands.items)
    expected = arrays.ease_weights[np.searchsorted(arrays.ease_items, history.items)].sum(0)
    got = cands.features[:, FEATURES.index("ease_score")]
    assert np.allclose(got, expected[pos], atol=1e-5)
    assert "ease" in cands.generator


def test_bundle_without_ease_arrays_still_loads(bundle: Path, tmp_path: Path) -> None:
    """Bundles written before EASE existed have no ease_* arrays; they must keep loading."""
    old = tmp_path / "old"
    old.mkdir()
    with np.load(bundle / ARRAYS_FILE, allow_pickle=False) as data:
        np.savez(
            old / ARRAYS_FILE,
            allow_pickle=False,
            **{k: data[k] for k in data.files if not k.startswith("ease_")},
        )
    write_manifest(old, read_manifest(bundle))
    model = RecommenderModel.load(old)
    assert len(model.arrays.ease_items) == 0
    assert len(model.recommend(model.online_state("u1"), [], 3, ALL).items) == 3
    with np.load(bundle / ARRAYS_FILE, allow_pickle=False) as data:
        np.savez(
            old / ARRAYS_FILE,
            allow_pickle=False,
            **{k: data[k] for k in data.files if k != "item_factors"},
        )
    with pytest.raises(BundleError, match="item_factors"):
        load_arrays(old)
