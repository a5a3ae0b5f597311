"""Asyncio reads of the Redis online store, for the API's event loop.

The API's hot routes read a customer (or a batch) per request. On the event loop a blocking
redis-py call stalls every other request of the worker while Redis answers, and handing it to
the thread pool costs a hop per request; `AsyncRedisReader` reads through `redis.asyncio`
instead. It is not a second store: keys come from the `RedisOnlineStore` it wraps (its own key
functions, so a change of the key layout applies to both), records and events are decoded by
`features.redis_codec` like the store does, and the current version and its metadata come from
the store's caches (one GET per second at most). Writes stay on the store.

`async_redis_client` is the one place the asyncio client is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from features.redis_codec import decode_events, decode_record
from features.redis_store import RedisOnlineStore
from features.store import CustomerRecord


def async_redis_client(url: str, *, timeout: float = 5.0, retries: int = 0) -> aioredis.Redis:
    """A pooled asyncio client; `timeout` bounds connect and each reply, no retries by default."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), retries),
    )


class AsyncRedisReader:
    """`read_customer` / `read_customers` of a `RedisOnlineStore`, awaited: one round trip each."""

    def __init__(self, store: RedisOnlineStore, client: aioredis.Redis) -> None:
        self.store = store
        self.client = client

    async def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        """What `RedisOnlineStore.read_customer` returns (the same keys, one pipeline)."""
        key = self.store._customer_key(self.store.current_version() or "none", customer_id)
        if max_events <= 0:  # LRANGE 0 -1 would be everything, LRANGE 0 0 one event
            raw = cast(Mapping[bytes, bytes], await self.client.hgetall(key))
            return decode_record(customer_id, raw)
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.lrange(self.store._events_key(customer_id), 0, max_events - 1)
        fields, raw_events = await pipe.execute()
        record = decode_record(customer_id, fields)
        record.events = decode_events(customer_id, raw_events)
        return record

    async def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        """What `RedisOnlineStore.read_customers` returns (one pipeline for the batch)."""
        version = self.store.current_version() or "none"
        pipe = self.client.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.hgetall(self.store._customer_key(version, cid))
        results = await pipe.execute()
        return [decode_record(cid, f) for cid, f in zip(customer_ids, results, strict=True)]

    async def aclose(self) -> None:
        """Release the asyncio connection pool."""
        await self.client.aclose()
