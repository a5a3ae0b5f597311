"""Decoding a customer's cached record for the models: features, model state, recent events."""

from __future__ import annotations

from typing import Any

import orjson

from features.runtime.rec_types import STATE_MODEL
from features.runtime.recommender import RecentEvent, RecommenderModel
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


def recommender_state(record: CustomerRecord, model: RecommenderModel) -> dict[str, bytes]:
    """The customer's recommender state for `model`.

    Normally the cached one. After a hot swap to a new model version and before the next
    materialize, the cached state belongs to the old model: use the new model's own copy then.
    """
    n = len(REC_PREFIX)
    state = {k[n:]: v for k, v in record.fields.items() if k.startswith(REC_PREFIX)}
    if state.get(STATE_MODEL, b"").decode("ascii", "replace") != model.model_id:
        return model.online_state(record.customer_id)
    return state


def recent_events(record: CustomerRecord, model: RecommenderModel) -> list[RecentEvent]:
    """Events newer than the model's training data, oldest first (older ones it already knows)."""
    since = model.as_of_ts
    events = [e for e in record.events if since is None or e.ts > since]
    return [RecentEvent(e.item_id, e.event_type, e.ts) for e in reversed(events)]
