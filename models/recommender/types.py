"""Value types of the recommender runtime: requests (events, filters) and results.

Kept free of numpy so the service can build and serialise them without knowing the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Event types in increasing order of intent; the code is stored per history item (int8).
EVENT_CODES: dict[str, int] = {"view": 0, "cart": 1, "purchase": 2}
PURCHASE = EVENT_CODES["purchase"]

# Field names of the per-customer online state (a Redis hash: field -> bytes).
STATE_FACTORS = "uf"  # float32[factors]: the trained user vector
STATE_ITEMS = "hi"  # int32[n]: history item indices (model item index space)
STATE_WEIGHTS = "hw"  # float32[n]: summed event weights per history item
STATE_EVENTS = "he"  # int8[n]: strongest event code per history item
STATE_TIMES = "ht"  # float64[n]: last touch per history item, epoch seconds
STATE_MODEL = "mv"  # ascii: the bundle's identity, so a stale state is detected
STATE_FIELDS = (STATE_FACTORS, STATE_ITEMS, STATE_WEIGHTS, STATE_EVENTS, STATE_TIMES, STATE_MODEL)


class UnknownItemError(KeyError):
    """The item id is not in the model's catalogue (the service answers 404)."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.item_id = item_id

    def __str__(self) -> str:
        return f"unknown item {self.item_id!r}"


@dataclass(frozen=True)
class RecentEvent:
    """A real-time event of the customer, newer than the model."""

    item_id: str
    event_type: str
    ts: float


@dataclass(frozen=True)
class RecFilters:
    """Business filters applied to every recommendation list."""

    category: str | None = None
    exclude: frozenset[str] = field(default_factory=frozenset)
    price_max: float | None = None
    # None: the model's default - False (purchased items are left out) unless the champion was
    # chosen with `train recommender --include-purchased` (shops where reorders dominate).
    include_purchased: bool | None = None


@dataclass(frozen=True)
class RecItem:
    """One recommended item with its score, a human reason and the generator it came from."""

    item_id: str
    score: float
    reason: str
    source: str


@dataclass(frozen=True)
class RecResult:
    """A recommendation list; `fallback` names the cold-start strategy used, if any."""

    items: list[RecItem]
    fallback: str | None = None
