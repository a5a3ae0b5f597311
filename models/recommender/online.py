"""A customer's cached record as the recommender needs it (serving and bulk exports share it)."""

from __future__ import annotations

from features.store import CustomerRecord
from models.recommender.model import RecentEvent, RecommenderModel
from models.recommender.types import STATE_MODEL


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
