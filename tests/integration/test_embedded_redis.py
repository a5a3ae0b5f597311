"""The embedded redis-server: persisted between commands, shared while one is running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis

from features.connect import redis_url
from features.embedded_redis import EmbeddedRedis
from features.settings import Settings
from tests.integration.conftest import VALUECHAIN, free_port

pytestmark = pytest.mark.integration


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        redis.Redis.from_url(server.url).set("k", "v")
    with EmbeddedRedis(tmp_path) as server:
        assert redis.Redis.from_url(server.url).get("k") == b"v"


def test_a_second_command_shares_the_running_server(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, redis_url=None, state_dir=tmp_path)
    with redis_url(settings, tmp_path) as first:
        with redis_url(settings, tmp_path) as second:
            assert second == first  # no second server on the same data directory
            redis.Redis.from_url(second).set("shared", "yes")
        assert redis.Redis.from_url(first).get("shared") == b"yes"  # still up
    assert EmbeddedRedis.running_url(tmp_path / "redis") is None


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`valuechain serve --demo` as a user starts it: no REDIS_URL, so an embedded Redis."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        STATE_DIR=str(tmp_path / "var"),
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
        MODEL_REFRESH_SECONDS="0",
    )
    args = [*VALUECHAIN, "serve", "--demo", "--workers", "1", "--port", str(port)]
    # Its own session, as a shell gives a foreground job: os.killpg is then a real Ctrl-C.
    proc = subprocess.Popen(
        args, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.25)
    proc.kill()
    pytest.fail(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}")


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_the_embedded_redis_stops_saved_when_serve_ends(tmp_path: Path, how: str) -> None:
    # Guards the redis-server left running after `valuechain serve` was stopped with SIGTERM.
    port = free_port()
    proc = _serve(tmp_path, port)
    data = tmp_path / "var" / "redis"
    url = EmbeddedRedis.running_url(data)
    assert url is not None
    redis.Redis.from_url(url).set("kept", "yes")
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    _, err = proc.communicate(timeout=60)
    assert "Demo API key" in err  # the demo printed its key (and curl examples using it)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    assert not (data / "server.json").exists()
    with EmbeddedRedis(data) as again:  # saved on the way out
        assert redis.Redis.from_url(again.url).get("kept") == b"yes"
