"""A customer's cached record as the recommender needs it, and the answer when Redis is out."""

from __future__ import annotations

from dataclasses import replace

from features.store import CustomerRecord, OnlineStore
from models.recommender.model import RecentEvent, RecFilters, RecommenderModel, RecResult
from models.recommender.types import STATE_MODEL
from service.errors import StoreUnavailable
from service.metrics import Metrics

# `fallback` of an answer given without the cache (Redis down, slow or the breaker open).
STORE_FALLBACK = "store_unavailable"


def recommender_state(record: CustomerRecord, model: RecommenderModel) -> dict[str, bytes]:
    """The customer's recommender state for `model`.

    Normally the cached one. After a hot swap to a new model version and before the next
    materialize, the cached state belongs to the old model: use the new model's own copy then.
    """
    state = record.rec_state
    if state.get(STATE_MODEL, b"").decode("ascii", "replace") != model.model_id:
        return model.online_state(record.customer_id)
    return state


def recent_events(record: CustomerRecord, model: RecommenderModel) -> list[RecentEvent]:
    """Events newer than the model's training data, oldest first (older ones it already knows)."""
    since = model.as_of_ts
    events = [e for e in record.events if since is None or e.ts > since]
    return [RecentEvent(e.item_id, e.event_type, e.ts) for e in reversed(events)]


def recommend_for(
    store: OnlineStore,
    model: RecommenderModel,
    customer_id: str,
    k: int,
    filters: RecFilters,
    max_events: int,
    metrics: Metrics,
) -> RecResult:
    """Personal recommendations; without the cache, the customer's segment's (or overall)
    popular items from memory, flagged `fallback="store_unavailable"`."""
    try:
        record = store.read_customer(customer_id, max_events)
    except StoreUnavailable:
        metrics.fallbacks.labels("recommendations", STORE_FALLBACK).inc()
        segment = model.customer_segment(customer_id)
        result = model.recommend({}, [], k, filters, segment=segment)
        return replace(result, fallback=STORE_FALLBACK)
    state, recent = recommender_state(record, model), recent_events(record, model)
    return model.recommend(state, recent, k, filters, segment=record.features.get("region"))


def upsell_for(
    store: OnlineStore,
    model: RecommenderModel,
    customer_id: str,
    k: int,
    max_events: int,
    metrics: Metrics,
) -> RecResult:
    """Up-sell; without the cache, from the history the model was trained on (flagged)."""
    try:
        record = store.read_customer(customer_id, max_events)
    except StoreUnavailable:
        metrics.fallbacks.labels("upsell", STORE_FALLBACK).inc()
        result = model.upsell(model.online_state(customer_id), [], k, RecFilters())
        return replace(result, fallback=STORE_FALLBACK)
    state, recent = recommender_state(record, model), recent_events(record, model)
    return model.upsell(state, recent, k, RecFilters())
