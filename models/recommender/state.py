"""A customer's recommender state: encode for Redis, decode, and merge real-time events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.recommender.arrays import F32, F64, I8, I32, RecArrays
from models.recommender.types import (
    EVENT_CODES,
    STATE_EVENTS,
    STATE_FACTORS,
    STATE_ITEMS,
    STATE_MODEL,
    STATE_TIMES,
    STATE_WEIGHTS,
    RecentEvent,
)


@dataclass
class History:
    """The items a customer touched, in model item indices, one entry per item."""

    items: I32
    weights: F32
    events: I8
    times: F64

    @classmethod
    def empty(cls) -> History:
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int8),
            np.zeros(0, np.float64),
        )

    def __len__(self) -> int:
        return len(self.items)


def encode_state(arrays: RecArrays, user: int, model_id: str) -> dict[str, bytes]:
    """The Redis hash fields of user index `user`: factors and history as raw bytes."""
    start, end = int(arrays.hist_indptr[user]), int(arrays.hist_indptr[user + 1])
    return {
        STATE_FACTORS: arrays.user_factors[user].astype(np.float32).tobytes(),
        STATE_ITEMS: arrays.hist_items[start:end].astype(np.int32).tobytes(),
        STATE_WEIGHTS: arrays.hist_weights[start:end].astype(np.float32).tobytes(),
        STATE_EVENTS: arrays.hist_events[start:end].astype(np.int8).tobytes(),
        STATE_TIMES: arrays.hist_times[start:end].astype(np.float64).tobytes(),
        STATE_MODEL: model_id.encode("ascii"),
    }


def decode_state(
    state: Mapping[str, bytes], model_id: str, n_factors: int, n_items: int
) -> tuple[F32 | None, History]:
    """User vector (None when absent) and history; a state of another model counts as empty."""
    if not state or state.get(STATE_MODEL, b"").decode("ascii", "replace") != model_id:
        return None, History.empty()
    factors = np.frombuffer(state.get(STATE_FACTORS, b""), dtype=np.float32)
    history = History(
        np.frombuffer(state.get(STATE_ITEMS, b""), dtype=np.int32),
        np.frombuffer(state.get(STATE_WEIGHTS, b""), dtype=np.float32),
        np.frombuffer(state.get(STATE_EVENTS, b""), dtype=np.int8),
        np.frombuffer(state.get(STATE_TIMES, b""), dtype=np.float64),
    )
    sizes = {len(history.weights), len(history.events), len(history.times)}
    valid = sizes == {len(history.items)} and bool(np.all(history.items < n_items))
    if not valid:
        return None, History.empty()
    return (factors if len(factors) == n_factors else None), history


def merge_recent(
    history: History,
    recent: Sequence[RecentEvent],
    item_pos: Mapping[str, int],
    event_weights: Mapping[str, float],
) -> tuple[History, int]:
    """History with the recent events added (weights summed, strongest event, latest time).

    Events on items outside the catalogue are skipped. Returns the history and how many events
    were used.
    """
    add_items, add_w, add_e, add_t = [], [], [], []
    for event in recent:
        pos = item_pos.get(event.item_id)
        if pos is None:
            continue
        kind = event.event_type if event.event_type in EVENT_CODES else "view"
        add_items.append(pos)
        add_w.append(event_weights.get(kind, 1.0))
        add_e.append(EVENT_CODES[kind])
        add_t.append(float(event.ts))
    if not add_items:
        return history, 0
    items = np.concatenate([history.items, np.asarray(add_items, np.int32)])
    weights = np.concatenate([history.weights, np.asarray(add_w, np.float32)])
    events = np.concatenate([history.events, np.asarray(add_e, np.int8)])
    times = np.concatenate([history.times, np.asarray(add_t, np.float64)])
    uniq, inverse = np.unique(items, return_inverse=True)
    merged = History(
        uniq.astype(np.int32),
        np.bincount(inverse, weights=weights, minlength=len(uniq)).astype(np.float32),
        np.full(len(uniq), -1, np.int8),
        np.full(len(uniq), -np.inf, np.float64),
    )
    np.maximum.at(merged.events, inverse, events)
    np.maximum.at(merged.times, inverse, times)
    return merged, len(add_items)
