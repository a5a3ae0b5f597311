"""What a storefront relies on, checked against both recommender champions (ALS and ranker)."""

from __future__ import annotations

import numpy as np
import pytest

from models.recommender.model import RecentEvent, RecFilters, RecommenderModel, UnknownItemError
from tests.unit.training.test_recommender import COMPLEMENT, PER_CLUSTER

ALL = RecFilters()


def cluster(item_id: str) -> int:
    return int(item_id[1:]) // PER_CLUSTER


def price(item_id: str) -> float:
    return 10.0 * (1 + int(item_id[1:]) % PER_CLUSTER)


def purchased(model: RecommenderModel, customer: str) -> set[str]:
    arrays, user = model.arrays, model._users[customer]
    start, end = arrays.hist_indptr[user], arrays.hist_indptr[user + 1]
    items, events = arrays.hist_items[start:end], arrays.hist_events[start:end]
    return {model.catalog.ids[i] for i in items[events == 2]}


def test_recommends_mostly_within_the_users_taste_cluster(champion: RecommenderModel) -> None:
    for user in ("u2", "u3", "u6"):
        result = champion.recommend(champion.online_state(user), [], 4, ALL)
        assert result.fallback is None and len(result.items) == 4
        assert sum(cluster(i.item_id) == int(user[1:]) % 4 for i in result.items) >= 3
        assert all(i.reason for i in result.items)


def test_new_events_shift_the_recommendations_at_once(champion: RecommenderModel) -> None:
    state = champion.online_state("u0")  # cluster 0
    show_all = RecFilters(include_purchased=True)
    before = champion.recommend(state, [], 8, show_all)
    recent = [RecentEvent(f"i{30 + j}", "purchase", 1e10 + j) for j in range(6) for _ in range(3)]
    after = champion.recommend(state, recent, 8, show_all)
    if champion.kind in ("ease", "item_knn"):
        # Binary item-item kinds count each history item once, however often it was bought:
        # six new items need not outweigh a longer history among items already bought, but
        # among new items (the default filters) they move the list at once.
        before, after = (champion.recommend(state, r, 8, ALL) for r in ([], recent))
        third = [sum(cluster(i.item_id) == 3 for i in res.items) for res in (before, after)]
        assert third[1] > third[0] and third[1] >= 2
        return
    assert sum(cluster(i.item_id) == 3 for i in after.items) > sum(
        cluster(i.item_id) == 3 for i in before.items
    )
    assert sum(cluster(i.item_id) == 3 for i in after.items) >= 3


def test_filters_and_purchased_exclusion(champion: RecommenderModel) -> None:
    state = champion.online_state("u5")
    bought = purchased(champion, "u5")
    assert bought
    cat = champion.recommend(state, [], 5, RecFilters(category="cat2"))
    assert cat.items and all(cluster(i.item_id) == 2 for i in cat.items)
    cheap = champion.recommend(state, [], 5, RecFilters(price_max=30.0))
    assert cheap.items and all(price(i.item_id) <= 30.0 for i in cheap.items)
    default = champion.recommend(state, [], 10, ALL)
    assert len(default.items) == 10 and not bought & {i.item_id for i in default.items}
    excluded = {i.item_id for i in default.items[:2]}
    again = champion.recommend(state, [], 10, RecFilters(exclude=frozenset(excluded)))
    assert not excluded & {i.item_id for i in again.items}
    assert champion.recommend(state, [], 5, RecFilters(category="nope")).items == []


def test_cold_start_falls_back_to_popularity(champion: RecommenderModel) -> None:
    cold = champion.recommend({}, [], 5, ALL)
    assert cold.fallback == "popular" and len(cold.items) == 5
    top = np.argsort(-champion.arrays.item_popularity, kind="stable")[:5]
    assert {i.item_id for i in cold.items} == {champion.catalog.ids[j] for j in top}
    seg = champion.recommend({}, [], 5, ALL, segment="north")
    assert seg.fallback == "segment_popular"
    assert champion.recommend({}, [], 5, ALL, segment="mars").fallback == "popular"


def test_an_anonymous_session_is_personalised_by_its_events(champion: RecommenderModel) -> None:
    recent = [
        RecentEvent("i21", "view", 1.0),
        RecentEvent("i24", "cart", 2.0),
        RecentEvent("unknown-item", "view", 3.0),
    ]
    result = champion.recommend({}, recent, 3, ALL)
    assert result.fallback is None
    assert sum(cluster(i.item_id) == 2 for i in result.items) >= 2


def test_item_endpoints(champion: RecommenderModel) -> None:
    assert champion.bought_together(COMPLEMENT[0], 3).items[0].item_id == COMPLEMENT[1]
    similar = champion.similar_items("i25", 4)
    assert "i25" not in {i.item_id for i in similar.items}
    assert all(cluster(i.item_id) == 2 for i in similar.items)
    with pytest.raises(UnknownItemError):
        champion.similar_items("zz", 3)


def test_upsell_is_same_category_and_pricier(champion: RecommenderModel) -> None:
    recent = [RecentEvent("i33", "purchase", 1e10)]  # cat3, price 40
    result = champion.upsell({}, recent, 5, ALL)
    assert result.items
    assert all(cluster(i.item_id) == 3 and price(i.item_id) > 40.0 for i in result.items)
    assert champion.upsell({}, [], 5, ALL).fallback == "no_anchor"
