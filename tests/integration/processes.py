"""The stack's own processes, started by tests: redis-server (alone or as a cluster), mlflow
server, API replicas.

Each runs as a real subprocess on a free loopback port and is stopped (by its own pid) when the
context ends; its output goes to a log file that a failing test prints.
"""

from __future__ import annotations

import contextlib
import os
import random
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
        _wait_port(port, data_dir / "redis.log")
        yield f"redis://127.0.0.1:{port}/0"


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


@contextlib.contextmanager
def redis_cluster(base: Path, masters: int = 3) -> Iterator[str]:
    """A Redis Cluster of `masters` redis-server processes on loopback (no replicas).

    Each node gets a free port whose cluster-bus port (port + 10000) is free too, and a directory
    of its own under `base`; `redis-cli --cluster create` assigns the slots. Yields the URL of the
    first node, from which a cluster client discovers the others.
    """
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.skip("redis-server and redis-cli are not installed")
    nodes: list[int] = []
    while len(nodes) < masters:
        port = random.randint(20000, 45000)  # + 10000 stays a valid port
        if port not in nodes and _is_free(port) and _is_free(port + 10000):
            nodes.append(port)
    with contextlib.ExitStack() as stack:
        for port in nodes:
            node_dir = base / f"node-{port}"
            node_dir.mkdir(parents=True)
            args = [server, "--port", str(port)]
            args += ["--bind", "127.0.0.1", "--dir", str(node_dir), "--daemonize", "no"]
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            args += ["--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no"]
            stack.enter_context(process(args, node_dir / "redis.log"))
        for port in nodes:
            _wait_port(port, base / f"node-{port}" / "redis.log")
        create = [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in nodes)]
        create += ["--cluster-replicas", "0", "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            pytest.fail(f"redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
        for port in nodes:
            _wait_cluster_ok(cli, port)
        yield f"redis://127.0.0.1:{nodes[0]}/0"


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_port(port: int, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"redis-server on port {port} did not start:\n{log.read_text()}")
        time.sleep(0.1)


def _wait_cluster_ok(cli: str, port: int, timeout: float = 30) -> None:
    """Wait until the node at `port` says `cluster_state:ok` (it knows every slot's owner)."""
    deadline = time.monotonic() + timeout
    info = ""
    while time.monotonic() < deadline:
        args = [cli, "-p", str(port), "cluster", "info"]
        info = subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
        if "cluster_state:ok" in info:
            return
        time.sleep(0.2)
    pytest.fail(f"the cluster node on port {port} never reached cluster_state:ok:\n{info}")
