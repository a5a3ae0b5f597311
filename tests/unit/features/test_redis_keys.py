"""Which Redis Cluster slot each key lands in: transactions stay in one, customers spread."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from features.redis_keys import KeyLayout

KEYS = KeyLayout("shop")


def slot(key: str) -> int:
    return int(key_slot(key.encode()))


def test_a_commit_touches_one_slot() -> None:
    # commit_version's MULTI: the pointer and the committed list; the version's metadata and
    # rankings sit in the same slot, so the node with the new pointer has them too.
    slots = {
        slot(KEYS.version),
        slot(KEYS.versions),
        slot(KEYS.meta("20260101T000000-abcd1234")),
        slot(KEYS.ranking("20260101T000000-abcd1234", "churn")),
    }
    assert len(slots) == 1


@pytest.mark.parametrize("customer", ["C1", "42", "a}b", "x{y", "ünï"])
def test_a_customer_hash_and_events_share_a_slot(customer: str) -> None:
    assert slot(KEYS.customer("v1", customer)) == slot(KEYS.events(customer))
    assert slot(KEYS.customer("v1", customer)) == slot(KEYS.customer("v2", customer))


def test_customers_spread_over_the_slots() -> None:
    slots = {slot(KEYS.customer("v1", f"C{n}")) for n in range(2000)}
    assert len(slots) > 1500  # 2000 ids fill about 1880 of the 16384 slots


def test_every_key_starts_with_the_prefix() -> None:
    keys = [KEYS.version, KEYS.versions, KEYS.meta("v"), KEYS.ranking("v", "churn")]
    keys += [KEYS.customer("v", "c"), KEYS.events("c"), KEYS.events_stream, KEYS.api_keys]
    assert all(k.startswith("shop:") for k in keys)
    assert KEYS.customer("v", "c").startswith(KEYS.version_pattern("v")[:-1])
