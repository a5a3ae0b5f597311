"""Redis implementation of `OnlineStore`, on one Redis server or a Redis Cluster.

Keys and their hash tags: `features.redis_keys` (re-exported here as `KeyLayout`).
A materialization writes a whole new version, then flips the pointer: readers never see half a
cache; the version before stays until the next commit, for readers that still hold its id.
Readers cache the version id for a second and the current version's (immutable) metadata.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import orjson
import redis

from features.redis_client import RedisClient, redis_client
from features.redis_codec import decode_events, decode_record, encode_event, encode_record
from features.redis_keys import KeyLayout
from features.store import CustomerRecord, Event

__all__ = ["KEEP_VERSIONS", "KeyLayout", "RedisOnlineStore", "redis_client"]

logger = logging.getLogger(__name__)

_BATCH = 2000
# Committed versions kept in Redis: the current one and the one before it.
KEEP_VERSIONS = 2


class RedisOnlineStore:
    """`OnlineStore` on a Redis server or cluster (redis-py, connection pooled, thread safe)."""

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "vc",
        max_events: int = 50,
        event_ttl_seconds: int = 30 * 86400,
        version_cache_seconds: float = 1.0,
    ) -> None:
        self._r = client
        self.layout = KeyLayout(prefix)
        self._max_events = max_events
        self._event_ttl = event_ttl_seconds
        self._cache_s = version_cache_seconds
        self._cached: tuple[float, str | None] = (0.0, None)
        # A version's metadata is written before its commit and never changes afterwards.
        self._meta: tuple[str | None, dict[str, Any]] = (None, {})

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        cluster: bool = False,
        timeout: float = 5.0,
        retries: int | None = None,
        **kwargs: Any,
    ) -> RedisOnlineStore:
        """Connect with a pooled client (see `redis_client`); `kwargs` go to the store."""
        client = redis_client(url, cluster=cluster, timeout=timeout, retries=retries)
        return cls(client, **kwargs)

    @property
    def client(self) -> RedisClient:
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
                key = self.layout.customer(version, record.customer_id)
                pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
                count += 1
            if len(pipe) >= _BATCH:
                pipe.execute()
        pipe.execute()
        return count

    def write_ranking(self, version: str, name: str, scores: Mapping[str, float]) -> None:
        key = self.layout.ranking(version, name)
        items = list(scores.items())
        pipe = self._r.pipeline(transaction=False)
        for start in range(0, len(items), _BATCH):
            pipe.zadd(key, dict(items[start : start + _BATCH]))
        pipe.execute()

    def write_meta(self, version: str, meta: Mapping[str, Any]) -> None:
        self._r.set(self.layout.meta(version), orjson.dumps(meta, default=str))

    def commit_version(self, version: str) -> str | None:
        # The previous version stays readable: other workers may still hold its id for up to
        # `version_cache_seconds`. Only versions older than that are dropped. One transaction in
        # one slot: the pointer and the list share the hash tag.
        keys = self.layout
        pipe = self._r.pipeline(transaction=True)
        pipe.getset(keys.version, version)
        pipe.lpush(keys.versions, version)
        pipe.lrange(keys.versions, KEEP_VERSIONS, -1)
        pipe.ltrim(keys.versions, 0, KEEP_VERSIONS - 1)
        previous, _, expired, _ = pipe.execute()
        self._cached = (0.0, None)
        for old in {v.decode() for v in expired} - {version}:
            self._drop(old)
        return previous.decode() if isinstance(previous, bytes) else None

    def abort_version(self, version: str) -> None:
        if self.current_version() != version:
            self._drop(version)

    def _drop(self, version: str) -> None:
        # SCAN visits every master of a cluster; UNLINK of keys in many slots is split by slot.
        batch: list[bytes] = []
        for key in self._r.scan_iter(match=self.layout.version_pattern(version), count=5000):
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
        raw = self._r.get(self.layout.version)
        version = raw.decode() if isinstance(raw, bytes) else None
        self._cached = (now, version)
        return version

    def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        version = self.current_version()
        key = self.layout.customer(version or "none", customer_id)
        if max_events <= 0:  # LRANGE 0 -1 would be everything, LRANGE 0 0 one event
            raw = cast(Mapping[bytes, bytes], self._r.hgetall(key))
            return decode_record(customer_id, raw)
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.lrange(self.layout.events(customer_id), 0, max_events - 1)
        fields, raw_events = pipe.execute()
        record = decode_record(customer_id, fields)
        record.events = decode_events(customer_id, raw_events)
        return record

    def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        version = self.current_version() or "none"
        if len(customer_ids) == 1:  # the API's one-customer reads: no pipeline object (~10 us)
            (cid,) = customer_ids
            key = self.layout.customer(version, cid)
            fields = cast(Mapping[bytes, bytes], self._r.hgetall(key))
            return [decode_record(cid, fields)]
        pipe = self._r.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.hgetall(self.layout.customer(version, cid))
        results = pipe.execute()
        return [decode_record(cid, f) for cid, f in zip(customer_ids, results, strict=True)]

    def top_ranking(self, name: str, limit: int) -> list[tuple[str, float]]:
        version = self.current_version()
        if version is None:
            return []
        rows = self._r.zrevrange(self.layout.ranking(version, name), 0, limit - 1, withscores=True)
        pairs = cast(list[tuple[bytes, float]], rows)
        return [(member.decode(), float(score)) for member, score in pairs]

    def read_meta(self) -> dict[str, Any]:
        version = self.current_version()
        cached_version, cached = self._meta
        if version is not None and version == cached_version:
            return dict(cached)
        raw = self._r.get(self.layout.meta(version)) if version else None
        meta = cast(dict[str, Any], orjson.loads(raw)) if raw else {}
        if version is not None and meta:
            self._meta = (version, meta)
        return dict(meta)

    def customer_ids(self, batch: int = 5000) -> Iterator[list[str]]:
        # SCAN may return a key twice (while the keyspace rehashes): `seen` keeps each id once.
        version = self.current_version()
        if version is None:
            return
        start = len(self.layout.customer(version, "")) - 1  # the id sits between the braces
        seen: set[str] = set()
        chunk: list[str] = []
        for key in self._r.scan_iter(match=self.layout.customer(version, "*"), count=batch):
            cid = key.decode()[start:-1]
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
            pipe.memory_usage(self.layout.customer(version, cid), samples=0)
        sizes = [int(n or 0) for n in pipe.execute()]
        return sum(sizes) / len(sizes)

    # --- events --------------------------------------------------------------------------
    def append_events(self, events: Sequence[Event]) -> None:
        """The customers' recent-events lists, then the durable stream in one transaction.

        Lists of many customers and the stream lie in many cluster slots: no one transaction holds
        them all. The stream goes last, so a failed call exports none of its events and a retry
        can repeat one only in a capped, expiring recent-events list, never in training data."""
        ordered = sorted(events, key=lambda e: e.ts)
        payloads = [encode_event(ev) for ev in ordered]
        lists: dict[str, list[bytes]] = {}
        for ev, payload in zip(ordered, payloads, strict=True):
            lists.setdefault(ev.customer_id, []).append(payload)
        pipe = self._r.pipeline(transaction=False)
        for cid, pushed in lists.items():
            key = self.layout.events(cid)
            pipe.lpush(key, *pushed)  # oldest first, so the list reads newest first
            pipe.ltrim(key, 0, self._max_events - 1)
            pipe.expire(key, self._event_ttl)
        pipe.execute()
        stream = self._r.pipeline(transaction=True)
        for ev, payload in zip(ordered, payloads, strict=True):
            stream.xadd(self.layout.events_stream, {"c": ev.customer_id, "p": payload})
        stream.execute()
