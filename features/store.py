"""The online store interface: what serving reads and materialization writes.

Backends implement `OnlineStore`; `tests/integration/test_store_contract.py` runs one contract
suite against each real backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Event:
    """A real-time customer event (view, cart, purchase) posted to the service."""

    customer_id: str
    item_id: str
    event_type: str
    ts: float
    quantity: int = 1
    amount: float = 0.0


@dataclass
class CustomerRecord:
    """Everything the cache holds about one customer, read in one round trip.

    `features` are the customer's feature values as of the materialization, `value` their row of
    the value table, `rec_state` the recommender's per-customer state (opaque bytes the
    recommender model encodes and decodes), `explained` scores explained at materialization
    (opaque bytes by model role, `models.scoring.explained`), `events` their recent real-time
    events, newest first. How these are laid out in a backend is the backend's business.
    """

    customer_id: str
    features: dict[str, Any] = field(default_factory=dict)
    value: dict[str, Any] = field(default_factory=dict)
    rec_state: dict[str, bytes] = field(default_factory=dict)
    explained: dict[str, bytes] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def materialized(self) -> bool:
        """True when the customer was written by the last materialization."""
        return bool(self.features or self.value or self.rec_state)


class OnlineStore(Protocol):
    """Key-value feature cache with versioned (all-or-nothing) materialization."""

    def ping(self) -> bool:
        """True when the backend answers."""
        ...

    def begin_version(self) -> str:
        """Start writing a new version; readers keep seeing the current one until commit."""
        ...

    def write_customers(self, version: str, records: Iterable[CustomerRecord]) -> int:
        """Write customer records (events aside) into `version`; returns how many were written."""
        ...

    def write_ranking(self, version: str, name: str, scores: Mapping[str, float]) -> None:
        """Write a named ranking (e.g. churn risk) into `version`."""
        ...

    def write_meta(self, version: str, meta: Mapping[str, Any]) -> None:
        """Write a version's metadata (as_of, counts, model versions, summaries)."""
        ...

    def commit_version(self, version: str) -> str | None:
        """Make `version` current atomically; drop the previous one. Returns the previous id."""
        ...

    def abort_version(self, version: str) -> None:
        """Delete a version that was never committed."""
        ...

    def current_version(self) -> str | None:
        """The version readers see, or None before the first materialization."""
        ...

    def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        """The customer's record in the current version with their recent events, newest first."""
        ...

    def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        """Several customers' records (no events) in one round trip."""
        ...

    def customer_ids(self, batch: int = 5000) -> Iterator[list[str]]:
        """Every customer id of the current version, in lists of up to `batch`, each id once."""
        ...

    def top_ranking(self, name: str, limit: int) -> list[tuple[str, float]]:
        """The highest `limit` entries of a ranking, highest first."""
        ...

    def read_meta(self) -> dict[str, Any]:
        """Metadata of the current version ({} when none)."""
        ...

    def append_events(self, events: Sequence[Event]) -> None:
        """Store real-time events; they outlive materializations and expire after a TTL."""
        ...
