"""The customer 360 (value, RFM, churn, tags) and the segment overview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from service.customer360 import customer_360, segment_overview
from service.deps import READ, CachedStoreDep, ModelsDep
from service.errors import NotFound
from service.responses import json_model
from service.schemas import NOT_FOUND, PROTECTED, UNAVAILABLE, Customer360, Segments

router = APIRouter(
    prefix="/v1", tags=["customers"], dependencies=[READ], responses={**UNAVAILABLE, **PROTECTED}
)


@router.get("/segments", response_model=Segments)
async def segments(store: CachedStoreDep) -> Segments:
    """Customers and value per RFM segment and per value tier."""
    return segment_overview(store.read_meta())


@router.get("/customers/{customer_id}", response_model=Customer360, responses=NOT_FOUND)
async def customer(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    store: CachedStoreDep,
    models: ModelsDep,
) -> Response:
    """Everything known about one customer: value tier, RFM segment, values, churn risk, tags."""
    record = store.read_customer(customer_id, max_events=0)
    if not record.materialized:
        raise NotFound(f"customer {customer_id!r} is not in the feature cache")
    return json_model(customer_360(record, store.read_meta(), models))
