"""Personal recommendations and up-sell for a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from models.recommender.model import RecFilters, RecResult
from service.customer_state import recommend_for, upsell_for
from service.deps import READ, MetricsDep, RecommenderDep, SettingsDep, StoreDep
from service.errors import BadRequest
from service.responses import json_model
from service.schemas import PROTECTED, UNAVAILABLE, Recommendations, RecommendedItem

router = APIRouter(
    prefix="/v1/customers",
    tags=["recommendations"],
    dependencies=[READ],
    responses={**UNAVAILABLE, **PROTECTED},
)

CustomerId = Annotated[str, Path(min_length=1, max_length=200)]
K = Annotated[int, Query(ge=1, le=1000, description="How many items (at most the server's max_k).")]


@router.get("/{customer_id}/recommendations", response_model=Recommendations)
async def recommend(
    customer_id: CustomerId,
    store: StoreDep,
    rec: RecommenderDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    k: K = 10,
    category: Annotated[str | None, Query(description="Only items of this category.")] = None,
    exclude: Annotated[list[str] | None, Query(description="Item ids never to return.")] = None,
    price_max: Annotated[
        float | None, Query(gt=0, description="Only items at most this price.")
    ] = None,
    include_purchased: Annotated[
        bool | None,
        Query(
            description="Allow items already bought; default: the model's setting (false unless "
            "trained with --include-purchased, for shops where customers reorder)."
        ),
    ] = None,
) -> Response:
    """ "Recommended for you": ranked items with a reason each; recent events count at once.

    While the cache is unavailable: popular items of the customer's segment, `fallback` set."""
    _check_k(k, settings.max_k)
    filters = RecFilters(
        category=category,
        exclude=frozenset(exclude or ()),
        price_max=price_max,
        include_purchased=include_purchased,
    )
    max_events = settings.max_recent_events
    result = recommend_for(store, rec.model, customer_id, k, filters, max_events, metrics)
    return json_model(_response(result, rec.version, customer_id=customer_id))


@router.get("/{customer_id}/upsell", response_model=Recommendations)
async def upsell(
    customer_id: CustomerId,
    store: StoreDep,
    rec: RecommenderDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    k: K = 5,
) -> Response:
    """Upgrade options: the same categories the customer buys, a higher price tier."""
    _check_k(k, settings.max_k)
    max_events = settings.max_recent_events
    result = upsell_for(store, rec.model, customer_id, k, max_events, metrics)
    return json_model(_response(result, rec.version, customer_id=customer_id))


def _check_k(k: int, max_k: int) -> None:
    if k > max_k:
        raise BadRequest(f"k must be at most {max_k}")


def _response(result: RecResult, version: str, **ids: str) -> Recommendations:
    items = [
        RecommendedItem(item_id=i.item_id, score=float(i.score), reason=i.reason, source=i.source)
        for i in result.items
    ]
    return Recommendations(items=items, fallback=result.fallback, model_version=version, **ids)
