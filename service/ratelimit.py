"""Per-key rate limits (`RATE_LIMIT`, e.g. `100/second;3000/minute`) with the `limits` library.

Counters live in Redis (a sliding-window counter per key and limit), so every worker and every
replica shares them; the check is awaited on the asyncio client (`limits.aio`, redis-py), so the
worker serves other requests meanwhile. A rate limiter must not turn a Redis outage into errors
for everyone: when Redis fails or the breaker is open, each worker counts in its own memory
instead (the same limits, per worker), and switches back when Redis answers again. With
`RATE_LIMIT_SCOPE=worker` (no client given) every worker counts in its own memory all the time:
no Redis round trip per request, and a key may make up to RATE_LIMIT x workers x replicas.
"""

from __future__ import annotations

import logging
import math
import time

import redis
import redis.asyncio as aioredis
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter as SharedLimiter
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from service.breaker import RedisBreaker
from service.errors import RateLimited, StoreUnavailable

logger = logging.getLogger(__name__)


class RateLimiter:
    """`await check(name)` raises `RateLimited` (429 with Retry-After) when a key is over."""

    def __init__(
        self, spec: str, client: aioredis.Redis | None, prefix: str, breaker: RedisBreaker
    ) -> None:
        self._items: list[RateLimitItem] = parse_many(spec)
        self._breaker = breaker
        self._shared: SharedLimiter | None = None
        if client is not None:
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=client.connection_pool,  # type: ignore[arg-type]  # **options
                key_prefix=prefix,
            )
            self._shared = SharedLimiter(storage)
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def check(self, name: str) -> None:
        """Count one request of key `name`; raise `RateLimited` when a limit is exceeded."""
        shared = self._shared
        for item in self._items:
            allowed = None
            if shared is not None:
                try:
                    allowed = await self._breaker.call_async(shared.hit, item, name)
                except StoreUnavailable:
                    shared = None  # Redis out: count in this worker, and wait no more on Redis
                else:
                    if not allowed:
                        wait = await _shared_retry_after(shared, item, name)
                        raise _limited(item, wait)
            if allowed is None and not self._local.hit(item, name):
                stats = self._local.get_window_stats(item, name)
                raise _limited(item, max(1, math.ceil(stats.reset_time - time.time())))


def _limited(item: RateLimitItem, wait: int) -> RateLimited:
    return RateLimited(
        f"rate limit {item} exceeded for this key; retry in {wait} s", retry_after=wait
    )


async def _shared_retry_after(limiter: SharedLimiter, item: RateLimitItem, name: str) -> int:
    """Whole seconds until the window lets the key through again (1 if Redis cannot say)."""
    try:
        stats = await limiter.get_window_stats(item, name)
    except redis.RedisError:
        return 1
    return max(1, math.ceil(stats.reset_time - time.time()))
