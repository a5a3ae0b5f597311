"""The recommender's answer for one customer, and the answer when Redis is out."""

from __future__ import annotations

from dataclasses import replace

from models.recommender.model import RecFilters, RecommenderModel, RecResult
from models.recommender.online import recent_events, recommender_state
from service.errors import StoreUnavailable
from service.metrics import Metrics
from service.reader import Reader

# `fallback` of an answer given without the cache (Redis down, slow or the breaker open).
STORE_FALLBACK = "store_unavailable"


async def recommend_for(
    reader: Reader,
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
        record = await reader.read_customer(customer_id, max_events)
    except StoreUnavailable:
        metrics.fallbacks.labels("recommendations", STORE_FALLBACK).inc()
        segment = model.customer_segment(customer_id)
        result = model.recommend({}, [], k, filters, segment=segment)
        return replace(result, fallback=STORE_FALLBACK)
    state, recent = recommender_state(record, model), recent_events(record, model)
    return model.recommend(state, recent, k, filters, segment=record.features.get("region"))


async def upsell_for(
    reader: Reader,
    model: RecommenderModel,
    customer_id: str,
    k: int,
    max_events: int,
    metrics: Metrics,
) -> RecResult:
    """Up-sell; without the cache, from the history the model was trained on (flagged)."""
    try:
        record = await reader.read_customer(customer_id, max_events)
    except StoreUnavailable:
        metrics.fallbacks.labels("upsell", STORE_FALLBACK).inc()
        result = model.upsell(model.online_state(customer_id), [], k, RecFilters())
        return replace(result, fallback=STORE_FALLBACK)
    state, recent = recommender_state(record, model), recent_events(record, model)
    return model.upsell(state, recent, k, RecFilters())
