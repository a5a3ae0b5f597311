"""The reads the hot routes await: a customer (with recent events) or a batch, through the breaker.

When the service opened Redis itself they go through `redis.asyncio` (`AsyncRedisReader`), so a
worker's event loop keeps serving other requests while Redis answers. When the app was given a
store (tests, another `OnlineStore` backend), its own synchronous calls run on the loop
(`SyncReader`): the same answers and round trips, without a thread-pool hop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from features.store import CustomerRecord, OnlineStore
from service.breaker import RedisBreaker


class Reader(Protocol):
    """Awaitable customer reads (the `OnlineStore` read contract, awaited)."""

    async def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord: ...

    async def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]: ...


class SyncReader:
    """A synchronous `OnlineStore`'s reads, called directly."""

    def __init__(self, store: OnlineStore) -> None:
        self._store = store

    async def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        return self._store.read_customer(customer_id, max_events)

    async def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        return self._store.read_customers(customer_ids)


class GuardedReader:
    """A reader with each call through the breaker: outages become `StoreUnavailable` (503)."""

    def __init__(self, reader: Reader, breaker: RedisBreaker) -> None:
        self.inner = reader
        self._b = breaker

    async def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        return await self._b.call_async(self.inner.read_customer, customer_id, max_events)

    async def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        return await self._b.call_async(self.inner.read_customers, customer_ids)
