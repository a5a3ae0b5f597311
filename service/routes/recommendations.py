"""Personal recommendations and up-sell for a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from models.champions import RECOMMENDER
from models.recommender.model import RecFilters, RecResult
from service.customer_state import recommend_for, upsell_for
from service.deps import READ, app_metrics, app_reader, app_settings, loaded_model
from service.errors import BadRequest
from service.responses import json_payload, recommendations_payload
from service.schemas import PROTECTED, UNAVAILABLE, Recommendations

router = APIRouter(
    prefix="/v1/customers",
    tags=["recommendations"],
    dependencies=[READ],
    responses={**UNAVAILABLE, **PROTECTED},
)

CustomerId = Annotated[str, Path(min_length=1, max_length=200)]
K = Annotated[int, Query(ge=1, le=1000, description="How many items (at most the server's max_k).")]


# `async def`: the customer read is awaited (one round trip, through the breaker), numpy/LightGBM
# run on the loop without a thread-pool hand-off, the payload is serialised once with orjson.
@router.get("/{customer_id}/recommendations", response_model=Recommendations)
async def recommend(
    customer_id: CustomerId,
    request: Request,
    k: K = 10,
    category: Annotated[str | None, Query(description="Only items of this category.")] = None,
    exclude: Annotated[list[str] | None, Query(description="Item ids never to return.")] = None,
    price_max: Annotated[
        float | None, Query(gt=0, description="Only items at most this price.")
    ] = None,
    include_purchased: Annotated[bool, Query(description="Allow items already bought.")] = False,
) -> Response:
    """ "Recommended for you": ranked items with a reason each; recent events count at once.

    While the cache is unavailable: popular items of the customer's segment, `fallback` set."""
    rec = loaded_model(request, RECOMMENDER)
    settings = app_settings(request)
    _check_k(k, settings.max_k)
    filters = RecFilters(
        category=category,
        exclude=frozenset(exclude or ()),
        price_max=price_max,
        include_purchased=include_purchased,
    )
    max_events, reader, metrics = (
        settings.max_recent_events,
        app_reader(request),
        app_metrics(request),
    )
    result = await recommend_for(reader, rec.model, customer_id, k, filters, max_events, metrics)
    return _response(result, rec.version, customer_id=customer_id)


@router.get("/{customer_id}/upsell", response_model=Recommendations)
async def upsell(customer_id: CustomerId, request: Request, k: K = 5) -> Response:
    """Upgrade options: the same categories the customer buys, a higher price tier."""
    rec = loaded_model(request, RECOMMENDER)
    settings, reader, metrics = app_settings(request), app_reader(request), app_metrics(request)
    _check_k(k, settings.max_k)
    max_events = settings.max_recent_events
    result = await upsell_for(reader, rec.model, customer_id, k, max_events, metrics)
    return _response(result, rec.version, customer_id=customer_id)


def _check_k(k: int, max_k: int) -> None:
    if k > max_k:
        raise BadRequest(f"k must be at most {max_k}")


def _response(result: RecResult, version: str, **ids: str) -> Response:
    return json_payload(recommendations_payload(result, version, **ids))
