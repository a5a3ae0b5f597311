"""The serving budget: one Redis round trip per entity, no pandas per request, one BLAS thread.

(The rate limiter's counter is one more round trip, on its own connection pool: not counted.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import redis
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info

from features.redis_store import RedisOnlineStore
from models.champions import load_models
from service.main import create_app
from tests.integration.conftest import World

pytestmark = pytest.mark.integration


class CountingConnection(redis.Connection):
    """A real connection that counts round trips (each send of packed commands is one)."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


@pytest.fixture(scope="module")
def counted(world: World) -> Iterator[TestClient]:
    url = redis.connection.parse_url(world.settings.redis_url or "")
    pool = redis.ConnectionPool(connection_class=CountingConnection, **url)
    store = RedisOnlineStore(
        redis.Redis(connection_pool=pool),
        prefix=world.settings.key_prefix,
        version_cache_seconds=3600,
    )
    app = create_app(world.settings, store=store, models=load_models(world.settings))
    with TestClient(app, headers=world.headers("write")) as client:
        yield client


def _round_trips(client: TestClient, method: str, url: str, **kwargs: Any) -> int:
    client.request(method, url, **kwargs).raise_for_status()  # warm the version cache
    before = CountingConnection.sends
    client.request(method, url, **kwargs).raise_for_status()
    return CountingConnection.sends - before


def test_one_round_trip_per_entity(counted: TestClient, world: World) -> None:
    events = pd.read_parquet(world.data / "interactions.parquet")
    customer = str(events["customer_id"].iloc[0])
    assert _round_trips(counted, "GET", f"/v1/customers/{customer}/recommendations") == 1
    assert _round_trips(counted, "GET", f"/v1/customers/{customer}/churn") <= 2  # + cache meta
    batch = {"customer_ids": [str(c) for c in events["customer_id"].unique()[:20]]}
    assert _round_trips(counted, "POST", "/v1/churn/score", json=batch) <= 2


def test_requests_build_no_pandas_objects(
    counted: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = str(pd.read_parquet(world.data / "customers.parquet")["customer_id"].iloc[0])

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("pandas used on the request path")

    monkeypatch.setattr(pd.DataFrame, "__init__", refuse)
    monkeypatch.setattr(pd.Series, "__init__", refuse)
    assert counted.get(f"/v1/customers/{customer}/recommendations").status_code == 200
    assert counted.get(f"/v1/customers/{customer}/churn").status_code == 200
    lead = {"source": "web", "industry": "retail", "company_size": 10}
    assert counted.post("/v1/leads/score", json=lead).status_code == 200


def test_blas_runs_one_thread_while_serving(counted: TestClient) -> None:
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)
