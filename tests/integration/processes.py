"""The stack's own processes, started by tests: redis-server, mlflow server, API replicas.

Each runs as a real subprocess on a free loopback port and is stopped (by its own pid) when the
context ends; its output goes to a log file that a failing test prints.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def process(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` in the background for the duration of the block."""
    with log.open("w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_http(
    url: str,
    log: Path,
    timeout: float = 120,
    status: int = 200,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `url` until it answers `status`; fail with the process log when it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == status:
                return
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer {status}:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """A redis-server with AOF on (as in the compose file); yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir)]
    args += ["--appendonly", "yes", "--save", "", "--daemonize", "no"]
    with process(args, data_dir / "redis.log"):
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{(data_dir / 'redis.log').read_text()}")
            time.sleep(0.1)
        yield url


@contextlib.contextmanager
def api_server(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[str]:
    """The API as the serving image runs it (uvicorn, app factory); yields its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = dict(env, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    with process(args, log, env=dict(os.environ, **env)) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/readyz", log, proc=proc)
        yield base
