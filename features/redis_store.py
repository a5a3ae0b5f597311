"""Redis implementation of `OnlineStore`.

Key layout (prefix `vc` by default):
- `vc:version`                     the current version id (string)
- `vc:v:{version}:c:{customer_id}` hash of a customer: `f` features (JSON), `v` value-table row
                                   (JSON), `r:<name>` recommender state fields (bytes)
- `vc:v:{version}:rank:{name}`     sorted set, e.g. churn risk
- `vc:v:{version}:meta`            JSON metadata of the version
- `vc:ev:{customer_id}`            list of recent events, newest first (capped, with a TTL)
- `vc:events`                      stream of every accepted event (durable; read by the exporter
                                   through the consumer group `export`, trimmed once exported)
- `vc:apikeys`                     hash: API key name -> JSON {sha256, role, created}
- `vc:rl:...`                      rate-limit counters (written by the `limits` library)

A materialization writes a whole new version and then flips `vc:version`, so readers never see a
half-written cache; the version before stays until the next commit, for readers that still hold
its id (`vc:versions` lists the committed ones). Readers cache the version id for a second (so
one entity costs one round trip) and the metadata of the current version until the version
changes (it is immutable once committed).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from features.redis_codec import decode_events, decode_record, encode_event, encode_record
from features.store import CustomerRecord, Event

logger = logging.getLogger(__name__)

_BATCH = 2000
# Committed versions kept in Redis: the current one and the one before it.
KEEP_VERSIONS = 2


@dataclass(frozen=True)
class KeyLayout:
    """Every Redis key valuechain uses, under one prefix (the module docstring lists them)."""

    prefix: str = "vc"

    @property
    def events_stream(self) -> str:
        return f"{self.prefix}:events"

    @property
    def api_keys(self) -> str:
        return f"{self.prefix}:apikeys"

    @property
    def rate_limits(self) -> str:
        return f"{self.prefix}:rl"


def redis_client(url: str, *, timeout: float = 5.0, retries: int | None = None) -> redis.Redis:
    """A pooled client; `timeout` bounds connect and each reply, `retries=0` fails at once."""
    retry = None if retries is None else Retry(NoBackoff(), retries)
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=retry,
    )


class RedisOnlineStore:
    """`OnlineStore` on a Redis server (redis-py, connection pooled, thread safe)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "vc",
        max_events: int = 50,
        event_ttl_seconds: int = 30 * 86400,
        version_cache_seconds: float = 1.0,
    ) -> None:
        self._r = client
        self._p = prefix
        self._layout = KeyLayout(prefix)
        self._max_events = max_events
        self._event_ttl = event_ttl_seconds
        self._cache_s = version_cache_seconds
        self._cached: tuple[float, str | None] = (0.0, None)
        # A version's metadata is written before its commit and never changes afterwards.
        self._meta: tuple[str | None, dict[str, Any]] = (None, {})

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 5.0, retries: int | None = None, **kwargs: Any
    ) -> RedisOnlineStore:
        """Connect with a pooled client (see `redis_client`); `kwargs` go to the store."""
        return cls(redis_client(url, timeout=timeout, retries=retries), **kwargs)

    @property
    def client(self) -> redis.Redis:
        """The underlying client (shared by the key store, the rate limiter and the exporter)."""
        return self._r

    def close(self) -> None:
        """Release the connection pool."""
        self._r.close()

    def ping(self) -> bool:
        try:
            return bool(self._r.ping())
        except redis.RedisError:
            return False

    # --- writing -------------------------------------------------------------------------
    def begin_version(self) -> str:
        return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    def write_customers(self, version: str, records: Iterable[CustomerRecord]) -> int:
        count = 0
        pipe = self._r.pipeline(transaction=False)
        for record in records:
            fields = encode_record(record)
            if fields:
                key = self._customer_key(version, record.customer_id)
                pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
                count += 1
            if len(pipe) >= _BATCH:
                pipe.execute()
        pipe.execute()
        return count

    def write_ranking(self, version: str, name: str, scores: Mapping[str, float]) -> None:
        key = f"{self._p}:v:{version}:rank:{name}"
        items = list(scores.items())
        pipe = self._r.pipeline(transaction=False)
        for start in range(0, len(items), _BATCH):
            pipe.zadd(key, dict(items[start : start + _BATCH]))
        pipe.execute()

    def write_meta(self, version: str, meta: Mapping[str, Any]) -> None:
        self._r.set(f"{self._p}:v:{version}:meta", orjson.dumps(meta, default=str))

    def commit_version(self, version: str) -> str | None:
        # The previous version stays readable: other workers may still hold its id for up to
        # `version_cache_seconds`. Only versions older than that are dropped.
        pipe = self._r.pipeline(transaction=True)
        pipe.getset(f"{self._p}:version", version)
        pipe.lpush(f"{self._p}:versions", version)
        pipe.lrange(f"{self._p}:versions", KEEP_VERSIONS, -1)
        pipe.ltrim(f"{self._p}:versions", 0, KEEP_VERSIONS - 1)
        previous, _, expired, _ = pipe.execute()
        self._cached = (0.0, None)
        for old in {v.decode() for v in expired} - {version}:
            self._drop(old)
        return previous.decode() if isinstance(previous, bytes) else None

    def abort_version(self, version: str) -> None:
        if self.current_version() != version:
            self._drop(version)

    def _drop(self, version: str) -> None:
        batch: list[bytes] = []
        for key in self._r.scan_iter(match=f"{self._p}:v:{version}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                self._r.unlink(*batch)
                batch = []
        if batch:
            self._r.unlink(*batch)

    # --- reading -------------------------------------------------------------------------
    def current_version(self) -> str | None:
        now = time.monotonic()
        stamp, version = self._cached
        if version is not None and now - stamp < self._cache_s:
            return version
        raw = self._r.get(f"{self._p}:version")
        version = raw.decode() if isinstance(raw, bytes) else None
        self._cached = (now, version)
        return version

    def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        version = self.current_version()
        key = self._customer_key(version or "none", customer_id)
        if max_events <= 0:  # LRANGE 0 -1 would be everything, LRANGE 0 0 one event
            raw = cast(Mapping[bytes, bytes], self._r.hgetall(key))
            return decode_record(customer_id, raw)
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.lrange(self._events_key(customer_id), 0, max_events - 1)
        fields, raw_events = pipe.execute()
        record = decode_record(customer_id, fields)
        record.events = decode_events(customer_id, raw_events)
        return record

    def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        version = self.current_version() or "none"
        pipe = self._r.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.hgetall(self._customer_key(version, cid))
        results = pipe.execute()
        return [decode_record(cid, f) for cid, f in zip(customer_ids, results, strict=True)]

    def top_ranking(self, name: str, limit: int) -> list[tuple[str, float]]:
        version = self.current_version()
        if version is None:
            return []
        rows = self._r.zrevrange(
            f"{self._p}:v:{version}:rank:{name}", 0, limit - 1, withscores=True
        )
        pairs = cast(list[tuple[bytes, float]], rows)
        return [(member.decode(), float(score)) for member, score in pairs]

    def read_meta(self) -> dict[str, Any]:
        version = self.current_version()
        cached_version, cached = self._meta
        if version is not None and version == cached_version:
            return dict(cached)
        raw = self._r.get(f"{self._p}:v:{version}:meta") if version else None
        meta = cast(dict[str, Any], orjson.loads(raw)) if raw else {}
        if version is not None and meta:
            self._meta = (version, meta)
        return dict(meta)

    def customer_ids(self, batch: int = 5000) -> Iterator[list[str]]:
        # SCAN may return a key twice (while the keyspace rehashes): `seen` keeps each id once.
        version = self.current_version()
        if version is None:
            return
        prefix = self._customer_key(version, "")
        seen: set[str] = set()
        chunk: list[str] = []
        for key in self._r.scan_iter(match=f"{prefix}*", count=batch):
            cid = key.decode()[len(prefix) :]
            if cid not in seen:
                seen.add(cid)
                chunk.append(cid)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def customer_bytes(self, sample: int = 1000) -> float:
        """Mean `MEMORY USAGE` (exact, all fields) of up to `sample` customer hashes, in bytes.

        What one customer costs in the cache, to size Redis (or Redis Cluster) for a population.
        """
        ids = next(self.customer_ids(sample), [])[:sample]
        if not ids:
            return 0.0
        version = self.current_version() or "none"
        pipe = self._r.pipeline(transaction=False)
        for cid in ids:
            pipe.memory_usage(self._customer_key(version, cid), samples=0)
        sizes = [int(n or 0) for n in pipe.execute()]
        return sum(sizes) / len(sizes)

    # --- events --------------------------------------------------------------------------
    def append_events(self, events: Sequence[Event]) -> None:
        pipe = self._r.pipeline(transaction=True)
        touched: set[str] = set()
        for ev in sorted(events, key=lambda e: e.ts):
            payload = encode_event(ev)
            pipe.lpush(self._events_key(ev.customer_id), payload)
            # The same transaction appends to the durable stream: both or neither.
            pipe.xadd(self._layout.events_stream, {"c": ev.customer_id, "p": payload})
            touched.add(ev.customer_id)
        for cid in touched:
            pipe.ltrim(self._events_key(cid), 0, self._max_events - 1)
            pipe.expire(self._events_key(cid), self._event_ttl)
        pipe.execute()

    def _customer_key(self, version: str, customer_id: str) -> str:
        return f"{self._p}:v:{version}:c:{customer_id}"

    def _events_key(self, customer_id: str) -> str:
        return f"{self._p}:ev:{customer_id}"
