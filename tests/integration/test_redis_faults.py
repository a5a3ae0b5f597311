"""Redis paused or stopped while requests flow: answers within the budget, then recovery.

A redis-server of the test's own on a free loopback port holds the materialized cache; the API is
served over real HTTP. SIGSTOP makes Redis accept connections and never answer (the slow case);
stopping it refuses connections (the down case). Neither restarts the service.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from features.embedded_redis import EmbeddedRedis
from service.main import create_app
from tests.integration.conftest import World, run_cli, served

pytestmark = pytest.mark.integration

# Generous against the 100 ms Redis timeout: a request that waited for Redis's socket timeout
# (5 s before this change) fails it; one answered within the budget passes even on a busy CI box.
BUDGET_S = 1.0
LEAD = {"source": "web", "industry": "retail", "company_size": 10}


@pytest.fixture(scope="module")
def fault_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path_factory.mktemp("fault-redis"), persist=True) as server:
        yield server


@pytest.fixture(scope="module")
def faulty(world: World, fault_redis: EmbeddedRedis) -> Iterator[httpx.Client]:
    """The world materialized into the test's own Redis and served from it."""
    env = dict(world.env, REDIS_URL=fault_redis.url)
    run_cli(env, "materialize", "--data", world.data, "--value", world.data / "value.parquet")
    out = run_cli(env, "keys", "create", "--name", "fault", "--role", "admin").stdout
    settings = world.settings.model_copy(
        update={
            "redis_url": fault_redis.url,
            "redis_timeout_seconds": 0.1,
            "breaker_reset_seconds": 1.0,
            "keys_refresh_seconds": 0.5,
        }
    )
    with served(create_app(settings), {"X-API-Key": out.strip().splitlines()[-1]}) as client:
        yield client


@pytest.fixture(scope="module")
def customer(world: World) -> str:
    events = pd.read_parquet(world.data / "interactions.parquet")
    return str(
        events.loc[events["event_type"] == "purchase", "customer_id"].value_counts().index[0]
    )


@pytest.fixture(scope="module")
def item(world: World) -> str:
    return str(pd.read_parquet(world.data / "items.parquet")["item_id"].iloc[0])


def _timed(client: httpx.Client, method: str, url: str, **kw: object) -> httpx.Response:
    start = time.monotonic()
    resp = client.request(method, url, **kw)  # type: ignore[arg-type]
    elapsed = time.monotonic() - start
    assert elapsed < BUDGET_S, f"{method} {url} took {elapsed:.2f} s (budget {BUDGET_S} s)"
    return resp


def _assert_degraded(client: httpx.Client, customer: str, item: str) -> None:
    """One round of requests while Redis is out: each within the budget, each the right answer."""
    recs = _timed(client, "GET", f"/v1/customers/{customer}/recommendations?k=5")
    assert recs.status_code == 200, recs.text
    assert recs.json()["fallback"] == "store_unavailable" and len(recs.json()["items"]) == 5
    for url in (f"/v1/customers/{customer}/churn", f"/v1/customers/{customer}", "/v1/segments"):
        resp = _timed(client, "GET", url)
        assert resp.status_code == 503 and int(resp.headers["Retry-After"]) >= 1, url
    event = {"customer_id": customer, "item_id": item, "event_type": "view"}
    assert _timed(client, "POST", "/v1/events", json=event).status_code == 503
    assert _timed(client, "POST", "/v1/leads/score", json=LEAD).status_code == 200
    assert _timed(client, "GET", f"/v1/items/{item}/similar?k=3").status_code == 200
    assert _timed(client, "GET", "/readyz").status_code == 503


def _assert_recovers(client: httpx.Client, customer: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        churn = client.get(f"/v1/customers/{customer}/churn")
        recs = client.get(f"/v1/customers/{customer}/recommendations?k=5")
        if churn.status_code == 200 and recs.json().get("fallback") is None:
            assert client.get("/readyz").status_code == 200
            return
        time.sleep(0.2)
    pytest.fail(f"no recovery without a restart: churn {churn.status_code}, recs {recs.text}")


def test_paused_redis_gets_fallbacks_within_the_budget_then_recovers(
    faulty: httpx.Client, fault_redis: EmbeddedRedis, customer: str, item: str
) -> None:
    assert faulty.get(f"/v1/customers/{customer}/recommendations").json()["fallback"] is None
    assert fault_redis.pid is not None
    os.kill(fault_redis.pid, signal.SIGSTOP)
    try:
        for _ in range(3):  # before and after the breaker opens
            _assert_degraded(faulty, customer, item)
    finally:
        os.kill(fault_redis.pid, signal.SIGCONT)
    _assert_recovers(faulty, customer)
    metrics = faulty.get("/metrics").text
    assert (
        'valuechain_fallbacks_total{endpoint="recommendations",kind="store_unavailable"}' in metrics
    )
    assert "valuechain_redis_errors_total" in metrics


def test_stopped_redis_gets_fallbacks_then_recovers_when_it_is_back(
    faulty: httpx.Client, fault_redis: EmbeddedRedis, customer: str, item: str, tmp_path: Path
) -> None:
    fault_redis.stop()  # saves: the cache and the keys come back with it
    try:
        for _ in range(3):
            _assert_degraded(faulty, customer, item)
    finally:
        fault_redis.start()
    _assert_recovers(faulty, customer)
