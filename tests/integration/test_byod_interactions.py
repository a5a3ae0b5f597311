"""Interactions-only recommender data (issue 10): `train recommender --interactions FILE` with no
customers or items file, `materialize --interactions FILE`, then the endpoints over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from service.config import ServiceSettings
from service.main import create_app
from tests.integration.conftest import admin_headers, cli_env, drop_prefix, invoke_cli, served

pytestmark = pytest.mark.integration


def interactions(n_customers: int = 400, n_items: int = 60, seed: int = 5) -> pd.DataFrame:
    """Purchases only (no event_type): two taste groups, each buying from its own half."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        half = c % 2
        for _ in range(rng.integers(4, 12)):
            item = rng.integers(0, n_items // 2) + half * (n_items // 2)
            rows.append((f"u{c}", f"sku-{item}", 1_700_000_000 + int(rng.integers(0, 10**7))))
    return pd.DataFrame(rows, columns=["customer_id", "item_id", "timestamp"])


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[httpx.Client, pd.DataFrame, Path, dict[str, str]]]:
    base = tmp_path_factory.mktemp("interactions")
    prefix = f"inter{uuid.uuid4().hex[:8]}"
    env = cli_env(base, redis_url, prefix)
    path = base / "orders.csv"
    frame = interactions()
    frame.to_csv(path, index=False)
    invoke_cli(env, "train", "recommender", "--interactions", path, "--trials", "2",
               "--no-ranker", "--no-ease")  # fmt: skip
    invoke_cli(env, "materialize", "--interactions", path)
    settings = ServiceSettings(
        redis_url=redis_url,
        key_prefix=prefix,
        mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"],
        state_dir=base / "var",
        model_refresh_seconds=0,
    )
    with served(create_app(settings), admin_headers(settings)) as client:
        yield client, frame, base, env
    drop_prefix(redis_url, prefix)


def test_every_customer_of_the_file_is_cached_and_gets_recommendations(
    setup: tuple[httpx.Client, pd.DataFrame, Path, dict[str, str]],
) -> None:
    client, frame, _, _ = setup
    ready = client.get("/readyz").json()
    assert ready["cache_version"] and ready["models"]["recommender"] == "1"
    for customer in ("u0", "u1", "u399"):
        resp = client.get(f"/v1/customers/{customer}/recommendations", params={"k": 5})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["fallback"] is None and len(body["items"]) == 5
        bought = set(frame.loc[frame["customer_id"] == customer, "item_id"])
        assert not bought & {i["item_id"] for i in body["items"]}
        # Taste groups: u0 buys from the first half of the catalogue, u1 from the second.
        half = int(customer[1:]) % 2
        in_half = [int(i["item_id"].split("-")[1]) // 30 == half for i in body["items"]]
        assert sum(in_half) >= 4, body


def test_items_of_the_file_have_similar_items(
    setup: tuple[httpx.Client, pd.DataFrame, Path, dict[str, str]],
) -> None:
    client = setup[0]
    resp = client.get("/v1/items/sku-3/similar", params={"k": 5})
    assert resp.status_code == 200, resp.text
    assert 0 < len(resp.json()["items"]) <= 5
    assert client.get("/v1/items/sku-3/bought-together").status_code == 200


def test_the_cache_holds_the_file_customers_without_churn_features(
    setup: tuple[httpx.Client, pd.DataFrame, Path, dict[str, str]], redis_url: str
) -> None:
    from features.redis_store import RedisOnlineStore

    _, frame, _, env = setup
    store = RedisOnlineStore.from_url(redis_url, prefix=env["KEY_PREFIX"])
    try:
        meta = store.read_meta()
        assert meta["customers"] == frame["customer_id"].nunique()
        assert meta["features"] == [] and meta["at_risk_ranked"] == 0
        record = store.read_customer("u7", max_events=0)
        assert record.rec_state and not record.features
    finally:
        store.close()


def test_interactions_without_customer_id_fail_naming_the_column(
    setup: tuple[httpx.Client, pd.DataFrame, Path, dict[str, str]],
) -> None:
    _, frame, base, env = setup
    bad = base / "bad.csv"
    frame.rename(columns={"customer_id": "user"}).to_csv(bad, index=False)
    output = invoke_cli(env, "materialize", "--interactions", bad, ok=False)
    assert "bad.csv" in output and "customer_id" in output
