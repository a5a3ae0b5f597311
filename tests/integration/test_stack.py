"""The compose stack's own processes, without Docker: train and serve through MLflow over HTTP.

`mlflow server` with a PostgreSQL backend store (a fresh database on the machine's server at
127.0.0.1:5432, dropped afterwards) and an artifact directory it serves; a redis-server with AOF
on; the valuechain commands and the API (uvicorn, as the serving image runs it) configured with
nothing but the tracking server's HTTP URI and the Redis URL, as in docker-compose.yml.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.integration.conftest import run_cli
from tests.integration.processes import api_server, free_port, process, redis_server, wait_http

pytestmark = pytest.mark.integration

# The machine's PostgreSQL (trust auth); TEST_POSTGRES_URL overrides it.
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432")


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", f"{POSTGRES}/test", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def backend_store() -> Iterator[str]:
    """A fresh PostgreSQL database for this run's MLflow backend store; dropped afterwards."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    if _psql("select 1").returncode != 0:
        pytest.skip(f"no PostgreSQL at {POSTGRES} (database `test`)")
    name = f"vc_stack_{uuid.uuid4().hex[:10]}"
    created = _psql(f"CREATE DATABASE {name}")
    assert created.returncode == 0, created.stderr
    try:
        # SQLAlchemy 2.1 defaults postgresql:// to psycopg 3; MLflow's image ships psycopg2.
        yield f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg2://')}/{name}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def stack(backend_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """MLflow server + Redis (AOF) up; yields the environment the valuechain processes get."""
    base = tmp_path_factory.mktemp("stack")
    port = free_port()
    server = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    server += ["--backend-store-uri", backend_store, "--workers", "1"]
    server += ["--artifacts-destination", str(base / "artifacts"), "--serve-artifacts"]
    log = base / "mlflow.log"
    # No background job runner (GenAI jobs): valuechain needs none, and it slows the start.
    env = dict(
        os.environ, MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"
    )
    with redis_server(base / "redis") as redis_url, process(server, log, env=env) as mlflow:
        wait_http(f"http://127.0.0.1:{port}/health", log, timeout=600, proc=mlflow)
        yield dict(
            env,
            MLFLOW_TRACKING_URI=f"http://127.0.0.1:{port}",
            REDIS_URL=redis_url,
            KEY_PREFIX="stack",
            STATE_DIR=str(base / "var"),
            OPENBLAS_NUM_THREADS="1",
            BASE=str(base),
        )


def test_train_materialize_and_serve_through_the_tracking_server(stack: dict[str, str]) -> None:
    base = Path(stack["BASE"])
    data = base / "data"
    run_cli(stack, "generate", "--out", data, "--customers", "1500", "--seed", "11")
    run_cli(
        stack, "train", "recommender", "--data", data, "--factors", "32", "--no-ranker", "--no-ease"
    )
    run_cli(stack, "train", "churn", "--data", data, "--trials", "2")
    run_cli(stack, "train", "lead", "--data", data, "--trials", "2")
    run_cli(stack, "value", "--data", data, "--out", data / "value.parquet")
    run_cli(stack, "materialize", "--data", data, "--value", data / "value.parquet")

    # Bundles live in the server's artifact directory; clients only ever had its HTTP URI.
    assert len(list((base / "artifacts").rglob("manifest.json"))) >= 3
    assert list((base / "redis").rglob("*.aof")), "Redis wrote no append-only file"

    customer = str(pd.read_parquet(data / "customers.parquet")["customer_id"].iloc[0])
    item = str(pd.read_parquet(data / "items.parquet")["item_id"].iloc[0])
    created = run_cli(stack, "keys", "create", "--name", "stack", "--role", "admin")
    headers = {"X-API-Key": created.stdout.strip().splitlines()[-1].strip()}
    with api_server(dict(stack, WORKERS="2"), base / "api.log", workers=2) as api:
        ready = httpx.get(f"{api}/readyz", timeout=30).json()
        assert ready["ready"] and ready["models"] == {"recommender": "1", "churn": "1", "lead": "1"}
        get = functools.partial(httpx.get, headers=headers, timeout=30)
        recs = get(f"{api}/v1/customers/{customer}/recommendations?k=3")
        assert recs.status_code == 200 and len(recs.json()["items"]) == 3
        churn = get(f"{api}/v1/customers/{customer}/churn").json()
        assert churn["model_version"] == "1" and 0 <= churn["probability"] <= 1
        models = get(f"{api}/v1/models").json()["models"]
        assert all(m["drift"] for m in models if m["role"] in ("churn", "lead"))
        event = {"customer_id": customer, "item_id": item, "event_type": "view"}
        posted = httpx.post(f"{api}/v1/events", json=event, headers=headers, timeout=30)
        assert posted.status_code == 202, posted.text

    # The exporter (the compose stack's `events export` service) carries the event to training.
    run_cli(stack, "events", "export", "--out", data / "events")
    exported = pd.concat(pd.read_parquet(f) for f in (data / "events").glob("*.parquet"))
    assert exported[["customer_id", "item_id"]].values.tolist() == [[customer, item]]

    out = base / "scores.csv"
    run_cli(stack, "export", "scores", "--out", out)
    assert len(pd.read_csv(out)) == 1500
