"""Real-time events: what the shopper did a second ago."""

from __future__ import annotations

import time

from fastapi import APIRouter, status
from starlette.responses import Response

from features.store import Event
from service.deps import WRITE, ModelsDep, SettingsDep, StoreDep
from service.errors import BadRequest
from service.offload import sized
from service.responses import json_model
from service.schemas import (
    PROTECTED,
    UNAVAILABLE,
    WITH_BODY,
    EventBatchIn,
    EventIn,
    EventsAccepted,
)

router = APIRouter(
    prefix="/v1",
    tags=["events"],
    dependencies=[WRITE],
    responses={**UNAVAILABLE, **PROTECTED, **WITH_BODY},
)


@router.post("/events", response_model=EventsAccepted, status_code=status.HTTP_202_ACCEPTED)
async def post_events(
    body: EventIn | EventBatchIn, store: StoreDep, models: ModelsDep, settings: SettingsDep
) -> Response:
    """Store one event or a batch; the next recommendations reflect them at once.

    Accepted (202) means stored in Redis twice: the customer's recent events, then (in one
    transaction) the durable stream that `valuechain events export` carries to training."""
    incoming = body.events if isinstance(body, EventBatchIn) else [body]
    if len(incoming) > settings.max_batch:
        raise BadRequest(f"at most {settings.max_batch} events per request, got {len(incoming)}")
    now = time.time()
    events = [
        Event(e.customer_id, e.item_id, e.event_type, e.timestamp or now, e.quantity, e.amount)
        for e in incoming
    ]
    await sized(len(events), store.append_events, events)
    rec = models.recommender
    unknown = sorted({e.item_id for e in events if rec and not rec.model.has_item(e.item_id)})
    accepted = EventsAccepted(accepted=len(events), unknown_items=unknown)
    return json_model(accepted, status.HTTP_202_ACCEPTED)
