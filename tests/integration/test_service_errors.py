"""Client errors and outages get clear 4xx/5xx answers, never a bare 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from features.api_keys import ApiKeyStore, KeyRole
from features.redis_store import RedisOnlineStore
from models.champions import ModelSet
from service.config import ServiceSettings
from service.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def admin_key(redis_url: str, key_prefix: str) -> str:
    client = redis.Redis.from_url(redis_url)
    return ApiKeyStore(client, key_prefix).create("admin", KeyRole.admin)


@pytest.fixture
def empty(store: RedisOnlineStore, admin_key: str, key_prefix: str) -> Iterator[TestClient]:
    """The service on a real but never materialized cache, without models."""
    settings = ServiceSettings(
        _env_file=None, redis_url=None, key_prefix=key_prefix, max_body_bytes=4096
    )
    app = create_app(settings, store=store, models=ModelSet())
    with TestClient(app, headers={"X-API-Key": admin_key}) as client:
        yield client


def test_an_empty_cache_is_503_not_404(empty: TestClient) -> None:
    resp = empty.get("/v1/segments")
    assert resp.status_code == 503 and "valuechain materialize" in resp.json()["detail"]
    assert empty.get("/readyz").status_code == 503


def test_a_missing_model_is_503(empty: TestClient) -> None:
    resp = empty.get("/v1/customers/c1/recommendations")
    assert resp.status_code == 503 and resp.json()["code"] == "model_unavailable"


@pytest.mark.parametrize(
    "event",
    [
        {"customer_id": "c", "item_id": "i", "event_type": "view", "timestamp": "NaN"},
        {"customer_id": "c", "item_id": "i", "event_type": "view", "amount": "Infinity"},
        {"customer_id": "c", "item_id": "i", "event_type": "view", "timestamp": 1e300},
        {"customer_id": "", "item_id": "i", "event_type": "view"},
    ],
)
def test_events_with_impossible_values_are_422(empty: TestClient, event: dict[str, object]) -> None:
    # Guards the bug where a NaN timestamp was stored and broke the customer's next requests.
    resp = empty.post("/v1/events", json=event)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_request"


def test_an_oversized_body_is_413(empty: TestClient) -> None:
    events = [{"customer_id": "c", "item_id": f"i{n}", "event_type": "view"} for n in range(200)]
    resp = empty.post("/v1/events", json={"events": events})
    assert resp.status_code == 413 and resp.json()["code"] == "payload_too_large"


def test_a_redis_outage_is_503_with_retry_after(
    redis_url: str, key_prefix: str, admin_key: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    store = RedisOnlineStore.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.1, retries=0)
    # The keys live in the working Redis; the feature store is the dead one.
    settings = ServiceSettings(_env_file=None, redis_url=redis_url, key_prefix=key_prefix)
    app = create_app(settings, store=store, models=ModelSet())
    with TestClient(app, headers={"X-API-Key": admin_key}) as client:
        resp = client.post(
            "/v1/events", json={"customer_id": "c", "item_id": "i", "event_type": "view"}
        )
    assert resp.status_code == 503 and resp.json()["code"] == "store_unavailable"
    assert int(resp.headers["Retry-After"]) >= 1


def test_unparsable_json_is_a_documented_400(empty: TestClient) -> None:
    # Guards the undocumented 400 schemathesis found: now 400 with the error body, in the docs.
    resp = empty.post(
        "/v1/events", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400 and resp.json()["code"] == "malformed_body"
    documented = empty.get("/openapi.json").json()["paths"]["/v1/events"]["post"]["responses"]
    assert {"400", "413", "401", "403", "429"} <= set(documented)
