"""The asyncio reader answers exactly what the store it wraps answers (same keys, same records)."""

from __future__ import annotations

import asyncio

import pytest

from features.redis_async import AsyncRedisReader, async_redis_client
from features.redis_store import RedisOnlineStore
from features.store import CustomerRecord, Event

pytestmark = pytest.mark.integration


def _materialize(store: RedisOnlineStore) -> None:
    version = store.begin_version()
    store.write_customers(
        version,
        [
            CustomerRecord("c1", features={"a": 1.5, "region": "north"}, value={"tier": "high"}),
            CustomerRecord("c2", features={"a": None}, rec_state={"v": b"\x00\x01\xff"}),
        ],
    )
    store.commit_version(version)
    store.append_events([Event("c1", f"i{n}", "view", 1000.0 + n) for n in range(4)])


async def _reads(store: RedisOnlineStore, redis_url: str) -> tuple[list[object], list[object]]:
    reader = AsyncRedisReader(store, async_redis_client(redis_url, timeout=2.0))
    try:
        got = [
            await reader.read_customer("c1"),
            await reader.read_customer("c1", max_events=2),
            await reader.read_customer("c1", max_events=0),
            await reader.read_customer("nobody"),
            await reader.read_customers(["c2", "nobody", "c1"]),
        ]
    finally:
        await reader.aclose()
    want = [
        store.read_customer("c1"),
        store.read_customer("c1", max_events=2),
        store.read_customer("c1", max_events=0),
        store.read_customer("nobody"),
        store.read_customers(["c2", "nobody", "c1"]),
    ]
    return got, want


def test_async_reads_equal_the_store_reads(store: RedisOnlineStore, redis_url: str) -> None:
    _materialize(store)
    got, want = asyncio.run(_reads(store, redis_url))
    assert got == want
    first = got[0]
    assert isinstance(first, CustomerRecord) and len(first.events) == 4
    assert first.events[0].item_id == "i3"  # newest first
    assert isinstance(got[1], CustomerRecord) and len(got[1].events) == 2


def test_async_reads_before_any_materialization(store: RedisOnlineStore, redis_url: str) -> None:
    got, want = asyncio.run(_reads(store, redis_url))
    assert got == want
    assert isinstance(got[3], CustomerRecord) and not got[3].materialized
