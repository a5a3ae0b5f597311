"""Open the configured online store: `REDIS_URL` when set, else an embedded redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from features.embedded_redis import EmbeddedRedis
from features.redis_store import RedisOnlineStore
from features.settings import Settings


@contextmanager
def redis_url(settings: Settings, state_dir: Path) -> Iterator[str]:
    """Yield a Redis URL: the configured one, or an embedded server's kept in `state_dir/redis`."""
    if settings.redis_url:
        yield settings.redis_url
        return
    data_dir = state_dir / "redis"
    running = EmbeddedRedis.running_url(data_dir)
    if running is not None:  # e.g. `serve` is up: write where it reads
        yield running
        return
    with EmbeddedRedis(data_dir) as server:
        yield server.url


@contextmanager
def open_store(settings: Settings, state_dir: Path) -> Iterator[RedisOnlineStore]:
    """Yield the online store for `settings`, closing it (and any embedded server) afterwards."""
    with redis_url(settings, state_dir) as url:
        store = RedisOnlineStore.from_url(
            url,
            cluster=settings.redis_cluster,
            prefix=settings.key_prefix,
            max_events=settings.max_recent_events,
            event_ttl_seconds=settings.event_ttl_days * 86400,
        )
        try:
            yield store
        finally:
            store.close()
