"""Stateless replicas: two API processes on one store answer alike, and a promotion reaches both.

Everything a replica knows is in Redis and the MLflow registry, so any number of them can sit
behind a load balancer. Two uvicorn processes on different ports, real HTTP.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pandas as pd
import pytest

from models.champions import resolve_bundle
from tests.integration.conftest import World, run_cli
from tests.integration.processes import api_server
from training import registry

pytestmark = pytest.mark.integration

LEAD = {"source": "referral", "industry": "retail", "company_size": 120, "email_opens": 6}


@pytest.fixture(scope="module")
def replicas(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    logs = tmp_path_factory.mktemp("replicas")
    env = dict(world.env, MODEL_REFRESH_SECONDS="0.5")
    with ExitStack() as stack:
        yield [stack.enter_context(api_server(env, logs / f"api{i}.log")) for i in range(2)]


def test_two_replicas_give_identical_answers(world: World, replicas: list[str]) -> None:
    headers = world.headers("admin")
    customer = str(pd.read_parquet(world.data / "customers.parquet")["customer_id"].iloc[3])
    item = str(pd.read_parquet(world.data / "items.parquet")["item_id"].iloc[0])
    paths = [
        f"/v1/customers/{customer}/recommendations?k=5",
        f"/v1/customers/{customer}/churn",
        f"/v1/customers/{customer}",
        f"/v1/items/{item}/similar?k=5",
        "/v1/customers/at-risk?limit=5",
        "/v1/models",
    ]
    for path in paths:
        first, second = (httpx.get(base + path, timeout=30, headers=headers) for base in replicas)
        assert first.status_code == second.status_code == 200, (path, first.text)
        assert first.json() == second.json(), path
    leads = [
        httpx.post(b + "/v1/leads/score", json=LEAD, timeout=30, headers=headers).json()
        for b in replicas
    ]
    assert leads[0] == leads[1]

    # An event posted to one replica is seen by the other (the store is the only state).
    buy = {"customer_id": customer, "item_id": item, "event_type": "purchase"}
    assert (
        httpx.post(replicas[0] + "/v1/events", json=buy, timeout=30, headers=headers).status_code
        == 202
    )
    after = [
        httpx.get(
            f"{b}/v1/customers/{customer}/recommendations?k=5", timeout=30, headers=headers
        ).json()
        for b in replicas
    ]
    assert after[0] == after[1]
    assert item not in {i["item_id"] for i in after[1]["items"]}  # bought: excluded on both


def test_metrics_count_requests_by_route_template(world: World, replicas: list[str]) -> None:
    """`valuechain serve` runs prometheus-client's multi-process mode: counts survive there."""
    base, headers = replicas[0], world.headers("read")
    customer = str(pd.read_parquet(world.data / "customers.parquet")["customer_id"].iloc[5])
    for _ in range(3):
        assert httpx.get(f"{base}/v1/customers/{customer}/churn", headers=headers).is_success
    assert httpx.get(f"{base}/no/such/{customer}", headers=headers).status_code == 404
    httpx.get(f"{base}/metrics")
    text = httpx.get(f"{base}/metrics").text  # the first scrape is not counted either
    churn = 'handler="/v1/customers/{customer_id}/churn",method="GET",status="200"'
    counted = [line for line in text.splitlines() if line.startswith("http_requests_total{")]
    assert any(churn in line and float(line.split()[-1]) >= 3 for line in counted), counted
    assert any('handler="none"' in line and 'status="404"' in line for line in counted)
    assert not any(customer in line or "/metrics" in line for line in counted)
    assert 'http_request_duration_seconds_bucket{handler="/v1/customers/{customer_id}/churn"' in (
        text
    )


def test_a_promotion_reaches_both_replicas(
    world: World, replicas: list[str], tmp_path: Path
) -> None:
    headers = world.headers("admin")
    settings = world.settings
    name = settings.churn_model
    current = resolve_bundle(settings.mlflow_tracking_uri, name, "champion", tmp_path / "dl")
    copy = tmp_path / "copy"
    shutil.copytree(current.path, copy)
    with registry.training_run(settings, run_name="replica-promotion"):
        new = registry.register_bundle(settings, name, copy, alias="challenger")
    run_cli(world.env, "models", "promote", name, new.version)
    try:
        for base in replicas:
            _wait_for_version(base, "churn", new.version)
        customer = str(pd.read_parquet(world.data / "customers.parquet")["customer_id"].iloc[3])
        versions = {
            httpx.get(f"{b}/v1/customers/{customer}/churn", timeout=30, headers=headers).json()[
                "model_version"
            ]
            for b in replicas
        }
        assert versions == {new.version}
    finally:
        run_cli(world.env, "models", "rollback", name)
    for base in replicas:
        _wait_for_version(base, "churn", current.version)


def _wait_for_version(base: str, role: str, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = httpx.get(base + "/readyz", timeout=10).json()["models"][role]
        if seen == version:
            return
        time.sleep(0.25)
    pytest.fail(f"{base} still serves {role} version {seen}, not {version}")
