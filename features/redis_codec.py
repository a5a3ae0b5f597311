"""How a `CustomerRecord` and an `Event` are encoded in Redis (used by `redis_store` only)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import orjson

from features.store import CustomerRecord, Event

logger = logging.getLogger(__name__)

# Fields of a customer hash: the only place that knows how a `CustomerRecord` is stored.
FEATURES_FIELD = b"f"
VALUE_FIELD = b"v"
REC_PREFIX = b"r:"
EXPLAINED_PREFIX = b"x:"


def encode_event(ev: Event) -> bytes:
    """An event without its customer id (the key or the stream entry carries that)."""
    return orjson.dumps(
        {"i": ev.item_id, "e": ev.event_type, "t": ev.ts, "q": ev.quantity, "a": ev.amount}
    )


def encode_record(record: CustomerRecord) -> dict[bytes, bytes]:
    fields = {REC_PREFIX + key.encode(): blob for key, blob in record.rec_state.items()}
    fields.update({EXPLAINED_PREFIX + k.encode(): blob for k, blob in record.explained.items()})
    if record.features:
        fields[FEATURES_FIELD] = orjson.dumps(record.features)
    if record.value:
        fields[VALUE_FIELD] = orjson.dumps(record.value)
    return fields


def decode_record(customer_id: str, raw: Mapping[bytes, bytes]) -> CustomerRecord:
    record = CustomerRecord(customer_id)
    n = len(REC_PREFIX)
    for key, blob in raw.items():
        if key == FEATURES_FIELD:
            record.features = orjson.loads(blob)
        elif key == VALUE_FIELD:
            record.value = orjson.loads(blob)
        elif key.startswith(REC_PREFIX):
            record.rec_state[key[n:].decode()] = blob
        elif key.startswith(EXPLAINED_PREFIX):
            record.explained[key[len(EXPLAINED_PREFIX) :].decode()] = blob
    return record


def decode_events(customer_id: str, raw_events: Sequence[bytes]) -> list[Event]:
    """Decode stored events, skipping (and logging) any that cannot be read."""
    events = []
    for raw in raw_events:
        try:
            events.append(decode_event(customer_id, raw))
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            logger.warning("skipping an unreadable event of customer %s: %r", customer_id, raw)
    return events


def decode_event(customer_id: str, raw: bytes) -> Event:
    data = orjson.loads(raw)
    return Event(
        customer_id,
        data["i"],
        data["e"],
        float(data["t"]),
        int(data.get("q", 1)),
        float(data.get("a", 0.0)),
    )
