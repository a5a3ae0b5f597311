"""The one Redis client factory: a single server or a Redis Cluster (`REDIS_CLUSTER=true`).

Everything that talks to Redis (the online store, API keys, the rate limiter, the event exporter)
gets its client here, so one setting moves all of them to a cluster. redis-py has no cluster URL
scheme: `REDIS_URL` names any one node and the cluster client discovers the others (and follows
slot moves) by itself. Which keys share a slot is `features.redis_store.KeyLayout`'s business.
"""

from __future__ import annotations

from typing import TypeAlias

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

RedisClient: TypeAlias = redis.Redis | RedisCluster


def redis_client(
    url: str, *, cluster: bool = False, timeout: float = 5.0, retries: int | None = None
) -> RedisClient:
    """A pooled client; `timeout` bounds connect and each reply, `retries=0` fails at once.

    With `cluster` the client is redis-py's `RedisCluster`: it reads the slot map from the node in
    `url` when it is created (so the cluster must be up by then) and routes each command to the
    node that owns its key; redirects after a resharding are followed whatever `retries` says.
    """
    options = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }
    if cluster:
        if retries is None:
            return RedisCluster.from_url(url, **options)
        return RedisCluster.from_url(url, retry=Retry(NoBackoff(), retries), **options)
    retry = None if retries is None else Retry(NoBackoff(), retries)
    return redis.Redis.from_url(url, retry=retry, **options)
