"""API keys in the `X-API-Key` header: who is calling (401) and whether their role may (403).

Keys live in Redis as SHA-256 digests (`features.api_keys`). Each worker holds an in-memory copy
that it reloads every `KEYS_REFRESH_SECONDS`, so authentication costs no Redis round trip and keeps
working while Redis is down (with the keys it last saw); a revoked key stops working within that
interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from features.api_keys import ApiKeyStore, KeyRole, digest
from service.breaker import RedisBreaker
from service.errors import Forbidden, StoreUnavailable, Unauthorized

logger = logging.getLogger(__name__)

HEADER = "X-API-Key"


@dataclass(frozen=True)
class Principal:
    """The caller: the key's name (safe to log) and its role."""

    name: str
    role: KeyRole


class KeyRing:
    """The keys a worker accepts, by digest; refreshed from Redis, kept while Redis is down."""

    def __init__(self, store: ApiKeyStore | None, breaker: RedisBreaker) -> None:
        self._store = store
        self._breaker = breaker
        self._by_digest: dict[str, Principal] = {}

    def __len__(self) -> int:
        return len(self._by_digest)

    def refresh(self) -> None:
        """Reload the keys; on a Redis outage keep the ones already known."""
        if self._store is None:
            return
        try:
            keys = self._breaker.call(self._store.list)
        except (StoreUnavailable, redis.RedisError) as exc:
            logger.warning("cannot reload API keys, keeping %d known: %s", len(self), exc)
            return
        self._by_digest = {k.digest: Principal(k.name, k.role) for k in keys}

    def identify(self, token: str | None) -> Principal:
        """The key's principal, or 401 when the key is missing, unknown or revoked."""
        if not token:
            raise Unauthorized(f"missing API key: send it in the {HEADER} header")
        principal = self._by_digest.get(digest(token))
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        return principal


def authorize(principal: Principal, needed: KeyRole) -> None:
    """403 unless the principal's role includes `needed`."""
    if not principal.role.allows(needed):
        raise Forbidden(f"this key's role {principal.role} may not do this (needs {needed})")
