"""Decoding a customer's cached record for the models: features, model state, recent events."""

from __future__ import annotations

from typing import Any

import orjson

from features.runtime.recommender import RecentEvent
from features.store import CustomerRecord

REC_PREFIX = "r:"


def features_of(record: CustomerRecord) -> dict[str, Any]:
    """The customer's feature dict (empty when not materialized)."""
    raw = record.fields.get("f")
    return dict(orjson.loads(raw)) if raw else {}


def value_of(record: CustomerRecord) -> dict[str, Any]:
    """The customer's value-table row (empty when not materialized)."""
    raw = record.fields.get("v")
    return dict(orjson.loads(raw)) if raw else {}


def recommender_state(record: CustomerRecord) -> dict[str, bytes]:
    """The fields the recommender stored for this customer, without their prefix."""
    n = len(REC_PREFIX)
    return {k[n:]: v for k, v in record.fields.items() if k.startswith(REC_PREFIX)}


def recent_events(record: CustomerRecord, since: float | None) -> list[RecentEvent]:
    """Events newer than the model's data (`since`, unix seconds), oldest first."""
    events = [e for e in record.events if since is None or e.ts > since]
    return [RecentEvent(e.item_id, e.event_type, e.ts) for e in reversed(events)]
