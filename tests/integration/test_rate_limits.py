"""RATE_LIMIT per key, counted where RATE_LIMIT_SCOPE says: shared in Redis, or per worker."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient

from features.api_keys import ApiKeyStore, KeyRole
from features.redis_keys import KeyLayout
from features.redis_store import RedisOnlineStore
from models.champions import ModelSet
from service.config import ServiceSettings
from service.main import create_app

pytestmark = pytest.mark.integration

PATH = "/v1/admin/models"  # needs a key, no cache and no model


@pytest.mark.parametrize("scope", ["shared", "worker"])
def test_the_scope_decides_who_shares_the_count(
    redis_url: str, key_prefix: str, store: RedisOnlineStore, scope: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    key = ApiKeyStore(client, key_prefix).create("limited", KeyRole.admin)
    settings = ServiceSettings(
        _env_file=None,
        redis_url=redis_url,
        key_prefix=key_prefix,
        rate_limit="3/minute",
        rate_limit_scope=scope,
    )
    headers = {"X-API-Key": key}
    # Two apps on one store stand for two workers (or replicas).
    first = create_app(settings, store=store, models=ModelSet())
    second = create_app(settings, store=store, models=ModelSet())
    with TestClient(first, headers=headers) as one, TestClient(second, headers=headers) as two:
        assert [one.get(PATH).status_code for _ in range(3)] == [200, 200, 200]
        over = one.get(PATH)
        assert over.status_code == 429 and over.json()["code"] == "rate_limited"
        assert int(over.headers["Retry-After"]) >= 1
        other_worker = two.get(PATH).status_code
    counters = list(client.scan_iter(match=f"{KeyLayout(key_prefix).rate_limits}*"))
    if scope == "shared":
        assert other_worker == 429 and counters  # one count in Redis for every worker
    else:
        assert other_worker == 200 and not counters  # each worker its own, no Redis round trip
