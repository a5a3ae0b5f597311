"""API keys: named, with a role, stored in Redis as SHA-256 hashes only.

Redis (not a file under STATE_DIR) because every API worker and every replica must see the same
keys and a revocation at once; the service keeps an in-memory copy it refreshes every few seconds,
so a Redis outage does not lock clients out. A plain SHA-256 suffices (no slow KDF): keys are 256
random bits, not passwords, so there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import orjson

from features.redis_client import RedisClient
from features.redis_keys import KeyLayout

KEY_TOKEN_PREFIX = "vck_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KeyRole(StrEnum):
    """What a key may do; each role includes the ones before it (read < write < admin)."""

    read = "read"
    write = "write"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(KeyRole).index(self)

    def allows(self, needed: KeyRole) -> bool:
        """True when this role includes `needed`."""
        return self.rank >= needed.rank


class ApiKeyError(ValueError):
    """A key name is invalid, taken or unknown."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key: its name, role and creation time (never the key itself)."""

    name: str
    role: KeyRole
    created: float
    digest: str


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeyStore:
    """Create, list and revoke keys in Redis."""

    def __init__(self, client: RedisClient, prefix: str = "vc") -> None:
        self._r = client
        self._key = KeyLayout(prefix).api_keys

    def create(self, name: str, role: KeyRole) -> str:
        """Store a new key named `name`; returns the key, which is not stored anywhere."""
        if not NAME_PATTERN.match(name):
            raise ApiKeyError(
                f"key name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        token = KEY_TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = {"sha256": digest(token), "role": role.value, "created": time.time()}
        if not self._r.hsetnx(self._key, name, orjson.dumps(record)):
            raise ApiKeyError(f"a key named {name!r} exists; revoke it first")
        return token

    def replace(self, name: str, role: KeyRole) -> str:
        """Revoke `name` if it exists and create it anew (demo mode)."""
        self._r.hdel(self._key, name)
        return self.create(name, role)

    def revoke(self, name: str) -> None:
        """Delete the key `name`; workers stop accepting it within their refresh interval."""
        if not self._r.hdel(self._key, name):
            raise ApiKeyError(f"no key named {name!r}")

    def list(self) -> list[ApiKey]:
        """Every stored key, by name."""
        raw = cast(dict[bytes, bytes], self._r.hgetall(self._key))
        keys = []
        for name, blob in sorted(raw.items()):
            data = orjson.loads(blob)
            keys.append(
                ApiKey(name.decode(), KeyRole(data["role"]), float(data["created"]), data["sha256"])
            )
        return keys
