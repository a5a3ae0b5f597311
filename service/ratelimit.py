"""Per-key rate limits (`RATE_LIMIT`, e.g. `100/second;3000/minute`) with the `limits` library.

Counters live in Redis (a sliding-window counter per key and limit), so every worker and every
replica shares them. A rate limiter must not turn a Redis outage into errors for everyone: when
Redis fails or the breaker is open, each worker counts in its own memory instead (the same
limits, per worker), and switches back when Redis answers again. With `RATE_LIMIT_SCOPE=worker`
(no client given) every worker counts in its own memory all the time: no Redis round trip per
request, and a key may make up to RATE_LIMIT x workers x replicas.

On a Redis Cluster the counters need no hash tags of ours: `limits` braces the two keys of a
sliding window alike (`<prefix>:{key}`, `<prefix>:{key}/-1`), so its script stays in one slot.
What it needs is a client that routes by slot: its cluster storage, here on our cluster client.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter
from redis.cluster import RedisCluster

from features.redis_client import RedisClient
from service.breaker import RedisBreaker
from service.errors import RateLimited, StoreUnavailable

logger = logging.getLogger(__name__)


class RateLimiter:
    """`check(name)` raises `RateLimited` (429 with Retry-After) when a key is over its limit."""

    def __init__(
        self, spec: str, client: RedisClient | None, prefix: str, breaker: RedisBreaker
    ) -> None:
        self._items: list[RateLimitItem] = parse_many(spec)
        self._breaker = breaker
        self._shared = None
        if isinstance(client, RedisCluster):
            self._shared = SlidingWindowCounterRateLimiter(_ClusterStorage(client, prefix))
        elif client is not None:
            storage = RedisStorage(
                "redis://", connection_pool=client.connection_pool, key_prefix=prefix
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())

    def check(self, name: str) -> None:
        """Count one request of key `name`; raise `RateLimited` when a limit is exceeded."""
        shared = self._shared
        for item in self._items:
            limiter, allowed = self._local, None
            if shared is not None:
                try:
                    allowed = self._breaker.call(shared.hit, item, name)
                    limiter = shared
                except StoreUnavailable:
                    shared = None  # Redis out: count in this worker, and wait no more on Redis
            if allowed is None:
                allowed = limiter.hit(item, name)
            if not allowed:
                wait = _retry_after(limiter, item, name)
                raise RateLimited(
                    f"rate limit {item} exceeded for this key; retry in {wait} s", retry_after=wait
                )


def _retry_after(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, name: str) -> int:
    """Whole seconds until the window lets the key through again (1 if Redis cannot say)."""
    try:
        stats = limiter.get_window_stats(item, name)
    except redis.RedisError:
        return 1
    return max(1, math.ceil(stats.reset_time - time.time()))


class _ClusterStorage(RedisClusterStorage):
    """`limits`' cluster storage on the service's own cluster client.

    Its constructor would open a second cluster client from a `redis+cluster://` URL, with
    `limits`' timeouts and retries; this one shares ours (the short timeout, no retries: the
    breaker decides), as the single-server storage shares our pool.
    """

    def __init__(self, client: RedisCluster, key_prefix: str) -> None:
        Storage.__init__(self, "redis+cluster://")
        self.key_prefix = key_prefix
        self.target_server = "redis"
        self.dependency = redis
        self.storage = client
        self.initialize_storage("redis+cluster://")
