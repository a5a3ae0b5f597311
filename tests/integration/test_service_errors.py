"""Client errors and outages get clear 4xx/5xx answers, never a bare 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from features.redis_store import RedisOnlineStore
from models.champions import ModelSet
from service.config import ServiceSettings
from service.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def empty(store: RedisOnlineStore) -> Iterator[TestClient]:
    """The service on a real but never materialized cache, without models."""
    settings = ServiceSettings(_env_file=None, max_body_bytes=4096)
    with TestClient(create_app(settings, store=store, models=ModelSet())) as client:
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


def test_a_redis_outage_is_503() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    store = RedisOnlineStore.from_url(f"redis://127.0.0.1:{port}/0")
    app = create_app(ServiceSettings(_env_file=None), store=store, models=ModelSet())
    with TestClient(app) as client:
        resp = client.post(
            "/v1/events", json={"customer_id": "c", "item_id": "i", "event_type": "view"}
        )
    assert resp.status_code == 503 and resp.json()["code"] == "store_unavailable"
