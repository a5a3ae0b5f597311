"""Behaviour of the recommender runtime on a small world with planted structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.runtime.bundle import BundleError, read_manifest, write_manifest
from features.runtime.rec_bundle import ARRAYS_FILE, RANKER_FILE, load_arrays
from features.runtime.rec_features import FEATURES, build_candidates
from features.runtime.rec_types import STATE_MODEL
from features.runtime.recommender import (
    RecentEvent,
    RecFilters,
    RecommenderModel,
    UnknownItemError,
)
from tests.unit.test_recommender import COMPLEMENT, PER_CLUSTER, planted_world
from training.recommender.als import ALSParams
from training.recommender.train import TrainParams, train_recommender

ALL = RecFilters()


def cluster(item_id: str) -> int:
    return int(item_id[1:]) // PER_CLUSTER


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    interactions, items, customers = planted_world()
    out = tmp_path_factory.mktemp("rec") / "bundle"
    params = TrainParams(als=ALSParams(factors=16, regularization=0.1, alpha=5.0, iterations=15),
                         ranker=False)
    train_recommender(interactions, items, out, customers=customers, params=params)
    return out


@pytest.fixture(scope="module")
def model(bundle: Path) -> RecommenderModel:
    return RecommenderModel.load(bundle)


def test_recommends_within_the_users_taste_cluster(model: RecommenderModel) -> None:
    for user in ("u2", "u3", "u6"):
        result = model.recommend(model.online_state(user), [], 4, ALL)
        assert result.fallback is None
        assert {cluster(i.item_id) for i in result.items} == {int(user[1:]) % 4}
        assert all(i.reason and i.source == "als" for i in result.items)


def test_new_events_shift_the_recommendations_at_once(model: RecommenderModel) -> None:
    state = model.online_state("u0")  # cluster 0
    show_all = RecFilters(include_purchased=True)
    before = model.recommend(state, [], 8, show_all)
    recent = [RecentEvent(f"i{30 + j}", "purchase", 1e10 + j) for j in range(6) for _ in range(3)]
    after = model.recommend(state, recent, 8, show_all)
    assert not any(cluster(i.item_id) == 3 for i in before.items)
    assert sum(cluster(i.item_id) == 3 for i in after.items) >= 3
    assert any(i.reason == "you bought it before" for i in after.items)


def test_filters_and_purchased_exclusion(model: RecommenderModel) -> None:
    state = model.online_state("u5")
    bought = _purchased(model, "u5")
    assert bought
    cat = model.recommend(state, [], 5, RecFilters(category="cat2"))
    assert cat.items and all(cluster(i.item_id) == 2 for i in cat.items)
    cheap = model.recommend(state, [], 5, RecFilters(price_max=30.0))
    assert cheap.items and all(int(i.item_id[1:]) % PER_CLUSTER <= 2 for i in cheap.items)
    default = model.recommend(state, [], 10, ALL)
    assert not bought & {i.item_id for i in default.items}
    excluded = {i.item_id for i in default.items[:2]}
    again = model.recommend(state, [], 10, RecFilters(exclude=frozenset(excluded)))
    assert not excluded & {i.item_id for i in again.items}
    assert bought & {i.item_id for i in
                     model.recommend(state, [], 10, RecFilters(include_purchased=True)).items}
    assert model.recommend(state, [], 5, RecFilters(category="nope")).items == []


def _purchased(model: RecommenderModel, customer: str) -> set[str]:
    arrays, user = model.arrays, model._users[customer]
    start, end = arrays.hist_indptr[user], arrays.hist_indptr[user + 1]
    items, events = arrays.hist_items[start:end], arrays.hist_events[start:end]
    return {model.catalog.ids[i] for i in items[events == 2]}


def test_cold_start_falls_back_to_popularity(model: RecommenderModel) -> None:
    cold = model.recommend({}, [], 5, ALL)
    assert cold.fallback == "popular" and len(cold.items) == 5
    top = np.argsort(-model.arrays.item_popularity, kind="stable")[:5]
    assert {i.item_id for i in cold.items} == {model.catalog.ids[j] for j in top}
    assert model.online_state("nobody") == {}
    seg = model.recommend({}, [], 5, ALL, segment="north")
    assert seg.fallback == "segment_popular"
    assert all(i.reason == "popular in your segment" for i in seg.items)
    assert model.recommend({}, [], 5, ALL, segment="mars").fallback == "popular"


def test_anonymous_session_uses_its_events(model: RecommenderModel) -> None:
    recent = [RecentEvent("i21", "view", 1.0), RecentEvent("i24", "cart", 2.0),
              RecentEvent("unknown-item", "view", 3.0)]
    result = model.recommend({}, recent, 3, ALL)
    assert result.fallback is None
    assert sum(cluster(i.item_id) == 2 for i in result.items) >= 2


def test_unknown_item_raises(model: RecommenderModel) -> None:
    assert model.has_item("i1") and not model.has_item("zz")
    with pytest.raises(UnknownItemError):
        model.similar_items("zz", 3)
    with pytest.raises(KeyError):
        model.bought_together("zz", 3)


def test_bought_together_finds_the_planted_complement(model: RecommenderModel) -> None:
    assert model.bought_together(COMPLEMENT[0], 3).items[0].item_id == COMPLEMENT[1]
    assert model.bought_together(COMPLEMENT[1], 3).items[0].item_id == COMPLEMENT[0]


def test_similar_items_share_the_cluster(model: RecommenderModel) -> None:
    similar = model.similar_items("i25", 4)
    assert "i25" not in {i.item_id for i in similar.items}
    assert all(cluster(i.item_id) == 2 for i in similar.items)


def test_upsell_is_same_category_and_pricier(model: RecommenderModel) -> None:
    def price(item_id: str) -> float:
        return 10.0 * (1 + int(item_id[1:]) % PER_CLUSTER)

    recent = [RecentEvent("i33", "purchase", 1e10)]  # cat3, price 40
    result = model.upsell({}, recent, 5, ALL)
    assert result.items
    for item in result.items:
        assert cluster(item.item_id) == 3 and price(item.item_id) > 40.0
        assert item.source == "upsell" and "i33" in item.reason
    for item in model.upsell(model.online_state("u1"), recent, 5, ALL).items:
        anchor = item.reason.split()[3]  # "an upgrade from <item> you ..."
        assert cluster(item.item_id) == cluster(anchor) and price(item.item_id) > price(anchor)
    assert model.upsell({}, [], 5, ALL).fallback == "no_anchor"


def test_bundle_round_trip_without_pickle(bundle: Path, model: RecommenderModel) -> None:
    with np.load(bundle / ARRAYS_FILE, allow_pickle=False) as data:
        assert "item_factors" in data.files
    arrays = load_arrays(bundle)
    assert np.array_equal(arrays.item_factors, model.arrays.item_factors)
    reloaded = RecommenderModel.load(bundle)
    state = reloaded.online_state("u7")
    assert [i.item_id for i in reloaded.recommend(state, [], 5, ALL).items] == \
        [i.item_id for i in model.recommend(model.online_state("u7"), [], 5, ALL).items]
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
    cands = build_candidates(arrays, model.catalog.unit_factors, vector, history.items,
                             history.weights, history.times, mask, None, 0.0)
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
        np.savez(old / ARRAYS_FILE, allow_pickle=False,
                 **{k: data[k] for k in data.files if not k.startswith("ease_")})
    write_manifest(old, read_manifest(bundle))
    model = RecommenderModel.load(old)
    assert len(model.arrays.ease_items) == 0
    assert len(model.recommend(model.online_state("u1"), [], 3, ALL).items) == 3
    with np.load(bundle / ARRAYS_FILE, allow_pickle=False) as data:
        np.savez(old / ARRAYS_FILE, allow_pickle=False,
                 **{k: data[k] for k in data.files if k != "item_factors"})
    with pytest.raises(BundleError, match="item_factors"):
        load_arrays(old)
