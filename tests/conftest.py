"""Shared fixtures: a real Redis (REDIS_URL or an embedded server) and a temp MLflow store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from features.embedded_redis import EmbeddedRedis
from features.redis_store import RedisOnlineStore
from features.settings import Settings

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def repo_stays_clean() -> Iterator[None]:
    """No test writes into the repo's mlruns/ (or MLflow's default ./mlflow.db)."""
    before = set((REPO / "mlruns").iterdir())
    yield
    assert set((REPO / "mlruns").iterdir()) == before, "a test wrote into the repo's mlruns/"
    assert not (REPO / "mlflow.db").exists(), "a test used MLflow's default store"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set (CI runs a server at 127.0.0.1:6379), else an embedded redis-server."""
    url = os.environ.get("REDIS_URL")
    if url:
        redis.Redis.from_url(url).ping()
        yield url
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False) as server:
        yield server.url


@pytest.fixture
def key_prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's keys."""
    return f"test{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(redis_url: str, key_prefix: str) -> Iterator[RedisOnlineStore]:
    """A Redis online store under a fresh prefix; its keys are deleted afterwards."""
    online = RedisOnlineStore.from_url(redis_url, prefix=key_prefix, version_cache_seconds=0)
    yield online
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    online.close()


@pytest.fixture
def mlflow_settings(tmp_path: Path, key_prefix: str) -> Settings:
    """Settings pointing MLflow at a SQLite store in a temp dir (never the repo's mlruns/)."""
    return Settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}", key_prefix=key_prefix
    )
