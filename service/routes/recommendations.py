"""Personal recommendations and up-sell for a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from models.recommender.model import RecFilters, RecResult
from models.recommender.online import recent_events, recommender_state
from service.deps import RecommenderDep, SettingsDep, StoreDep
from service.errors import BadRequest
from service.schemas import UNAVAILABLE, Recommendations, RecommendedItem

router = APIRouter(prefix="/v1/customers", tags=["recommendations"], responses=UNAVAILABLE)

CustomerId = Annotated[str, Path(min_length=1, max_length=200)]
K = Annotated[int, Query(ge=1, le=1000, description="How many items (at most the server's max_k).")]


@router.get("/{customer_id}/recommendations", response_model=Recommendations)
def recommend(
    customer_id: CustomerId,
    store: StoreDep,
    rec: RecommenderDep,
    settings: SettingsDep,
    k: K = 10,
    category: Annotated[str | None, Query(description="Only items of this category.")] = None,
    exclude: Annotated[list[str] | None, Query(description="Item ids never to return.")] = None,
    price_max: Annotated[
        float | None, Query(gt=0, description="Only items at most this price.")
    ] = None,
    include_purchased: Annotated[bool, Query(description="Allow items already bought.")] = False,
) -> Recommendations:
    """ "Recommended for you": ranked items with a reason each; recent events count at once."""
    _check_k(k, settings.max_k)
    record = store.read_customer(customer_id, settings.max_recent_events)
    filters = RecFilters(
        category=category,
        exclude=frozenset(exclude or ()),
        price_max=price_max,
        include_purchased=include_purchased,
    )
    state, recent = recommender_state(record, rec.model), recent_events(record, rec.model)
    result = rec.model.recommend(state, recent, k, filters, segment=record.features.get("region"))
    return _response(result, rec.version, customer_id=customer_id)


@router.get("/{customer_id}/upsell", response_model=Recommendations)
def upsell(
    customer_id: CustomerId, store: StoreDep, rec: RecommenderDep, settings: SettingsDep, k: K = 5
) -> Recommendations:
    """Upgrade options: the same categories the customer buys, a higher price tier."""
    _check_k(k, settings.max_k)
    record = store.read_customer(customer_id, settings.max_recent_events)
    state, recent = recommender_state(record, rec.model), recent_events(record, rec.model)
    result = rec.model.upsell(state, recent, k, RecFilters())
    return _response(result, rec.version, customer_id=customer_id)


def _check_k(k: int, max_k: int) -> None:
    if k > max_k:
        raise BadRequest(f"k must be at most {max_k}")


def _response(result: RecResult, version: str, **ids: str) -> Recommendations:
    items = [
        RecommendedItem(item_id=i.item_id, score=float(i.score), reason=i.reason, source=i.source)
        for i in result.items
    ]
    return Recommendations(items=items, fallback=result.fallback, model_version=version, **ids)
