"""A small world run through the real commands, and the API served over real HTTP.

The pipeline runs once per test session: `valuechain generate`, `train recommender|churn|lead`,
`value` and `materialize` as subprocesses (as a user would run them) against a temp MLflow store
and the test Redis under a key prefix of its own.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from cli import _COMMAND_MODULES
from cli.app import app as cli_app
from features.settings import get_settings
from service.config import ServiceSettings
from service.main import create_app

VALUECHAIN = [sys.executable, "-m", "cli"]


@dataclass(frozen=True)
class World:
    """A materialized world: where its data is and the environment its commands ran with.

    `keys` maps each role to an API key created with `valuechain keys create`.
    """

    data: Path
    env: dict[str, str]
    settings: ServiceSettings
    retrain_output: str
    keys: dict[str, str]

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


def run_cli(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `valuechain ARGS` as a subprocess; fail the test with its output when it fails."""
    result = subprocess.run(
        [*VALUECHAIN, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"valuechain {' '.join(map(str, args))} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result


def invoke_cli(env: dict[str, str], *args: str | Path, ok: bool = True) -> str:
    """Run `valuechain ARGS` in this process (the Typer app, as the console script runs it, without
    paying a new interpreter's imports); return its output. `ok`: fail the test on a non-zero
    exit, else fail it on a zero exit (for commands that must refuse)."""
    for module in _COMMAND_MODULES:
        importlib.import_module(module)
    get_settings.cache_clear()
    try:
        result = CliRunner(env=env).invoke(cli_app, [str(a) for a in args])
    finally:
        get_settings.cache_clear()
    if (result.exit_code == 0) != ok:
        pytest.fail(
            f"valuechain {' '.join(map(str, args))} exited {result.exit_code}:\n"
            f"{result.output[-5000:]}\n{result.exception!r}"
        )
    return result.output


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[World]:
    """Generate, train the three models, compute value and materialize, once per session."""
    base = tmp_path_factory.mktemp("world")
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    env = cli_env(base, redis_url, prefix)
    data = base / "data"
    run_cli(env, "generate", "--out", data, "--customers", "1500", "--seed", "7")
    # The nightly retrain as one command: the three models, the value table, materialize.
    retrain = run_cli(env, "train", "all", "--data", data, "--value-out", data / "value.parquet")
    keys = {
        role: run_cli(env, "keys", "create", "--name", f"test-{role}", "--role", role)
        .stdout.strip()
        .splitlines()[-1]
        for role in ("read", "write", "admin")
    }
    settings = ServiceSettings(
        redis_url=redis_url,
        key_prefix=prefix,
        mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"],
        state_dir=base / "var",
        model_refresh_seconds=0,
        max_batch=50,
        rate_limit="100000/second",  # schemathesis and the budget tests must not hit it
    )
    yield World(data, env, settings, retrain.stdout + retrain.stderr, keys)
    drop_prefix(redis_url, prefix)


@contextmanager
def mlflow_runner(tmp_path: Path, commands: str) -> Iterator[CliRunner]:
    """An in-process CLI runner on a fresh MLflow store in `tmp_path`, with the `commands`
    module registered and the settings cache cleared around it."""
    importlib.import_module(commands)
    get_settings.cache_clear()
    yield CliRunner(env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"})
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: FastAPI, headers: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """Serve `app` with uvicorn on a free local port; yield an HTTP client pointed at it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the API did not start")
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def drop_prefix(redis_url: str, prefix: str, cluster: bool = False) -> None:
    """Delete every key under `prefix` (on every master of a cluster)."""
    from features.redis_client import redis_client

    client = redis_client(redis_url, cluster=cluster)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real three-master Redis Cluster on loopback, for this session (see `redis_cluster`)."""
    from tests.integration.processes import redis_cluster

    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
        yield url


def admin_headers(settings: ServiceSettings) -> dict[str, str]:
    """Create an admin key in `settings`' store (as `valuechain keys create` does); its header."""
    from features.api_keys import ApiKeyStore, KeyRole
    from features.redis_client import redis_client

    assert settings.redis_url
    client = redis_client(settings.redis_url, cluster=settings.redis_cluster)
    try:
        key = ApiKeyStore(client, settings.key_prefix).replace("test-admin", KeyRole.admin)
    finally:
        client.close()
    return {"X-API-Key": key}


def cli_env(base: Path, redis_url: str, prefix: str) -> dict[str, str]:
    """The environment of `valuechain` subprocesses: a temp MLflow store, a Redis key prefix."""
    return dict(
        os.environ,
        MLFLOW_TRACKING_URI=f"sqlite:///{base / 'mlruns' / 'mlflow.db'}",
        REDIS_URL=redis_url,
        KEY_PREFIX=prefix,
        STATE_DIR=str(base / "var"),
        MLFLOW_DISABLE_TELEMETRY="true",
        OPENBLAS_NUM_THREADS="1",
    )


@pytest.fixture(scope="session")
def api(world: World) -> Iterator[httpx.Client]:
    """The app served by uvicorn on a free local port; a client with an admin key."""
    with served(create_app(world.settings), world.headers("admin")) as client:
        yield client
