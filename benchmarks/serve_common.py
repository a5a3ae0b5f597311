"""Helpers shared by the serving benchmarks: a trained world, the env, and server processes.

`prepare` builds (once per `--workdir`) a synthetic world and trains the three champions in the
workdir's own MLflow store; `start_process` starts any HTTP server in its own process group and
waits for its readiness URL; `stop_process` ends that group (the server and its workers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"
PREFIX = "benchserve"


def bench_env(workdir: Path) -> dict[str, str]:
    """The environment of every valuechain process of a benchmark run in `workdir`."""
    return dict(
        os.environ,
        MLFLOW_TRACKING_URI=f"sqlite:///{workdir}/mlflow.db",
        STATE_DIR=str(workdir / "state"),
        KEY_PREFIX=PREFIX,
        MLFLOW_DISABLE_TELEMETRY="true",
        MODEL_REFRESH_SECONDS="0",
        MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
    )


def vc_command(args: list[str]) -> list[str]:
    """The command line of `valuechain ARGS` run from this checkout (not an installed copy)."""
    return [sys.executable, "-c", ENTRY, *args]


def run_vc(args: list[str], env: dict[str, str], log: Path) -> None:
    """Run `valuechain ARGS` with output appended to `log`; exit the benchmark if it fails."""
    with log.open("ab") as out:
        code = subprocess.call(
            vc_command(args), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if code != 0:
        raise SystemExit(f"valuechain {' '.join(args[:2])} failed; see {log}")


def prepare(workdir: Path, customers: int, env: dict[str, str], rec_args: list[str]) -> Path:
    """Generate and train a world in `workdir` unless a previous run did; return its data dir."""
    world = workdir / f"world-{customers}"
    done = world / ".trained"
    log = workdir / "prepare.log"
    if done.exists():
        return world
    steps = [
        ["generate", "--out", str(world), "--customers", str(customers), "--seed", "7"],
        ["train", "recommender", "--data", str(world), *rec_args],
        ["train", "churn", "--data", str(world)],
        ["train", "lead", "--data", str(world)],
        ["value", "--data", str(world), "--out", str(world / "value.parquet")],
    ]
    steps[0].append("--overwrite")
    for step in steps:
        print(f"  valuechain {' '.join(step[:2])} ...", flush=True)
        run_vc(step, env, log)
    done.touch()
    return world


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group (so `stop_process` ends its workers too)."""
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 180) -> None:
    """Return once `url` answers 200; exit the benchmark if `proc` dies or the time runs out."""
    name = " ".join(str(a) for a in proc.args[:4]) if isinstance(proc.args, list) else "server"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} not ready within {timeout:.0f} s; see {log}")


def start_process(
    cmd: list[str], env: dict[str, str], log: Path, ready_url: str, timeout: float = 180
) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group; return once `ready_url` answers 200."""
    proc = spawn(cmd, env, log)
    try:
        wait_ready(proc, ready_url, log, timeout)
    except BaseException:
        stop_process(proc)
        raise
    return proc


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """`valuechain serve` in its own process group; returns once /readyz answers 200."""
    cmd = vc_command(["serve", "--port", str(port), "--workers", str(workers)])
    return start_process(cmd, env, log, f"http://127.0.0.1:{port}/readyz")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (a server and its workers), then SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def sample_ids(world: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Random customer and item ids of the world (all in the cache / catalogue)."""
    cust = pd.read_parquet(world / "customers.parquet", columns=["customer_id"])["customer_id"]
    items = pd.read_parquet(world / "items.parquet", columns=["item_id"])["item_id"]
    return (
        cust.sample(min(n, len(cust)), random_state=seed).astype(str).tolist(),
        items.sample(min(n, len(items)), random_state=seed).astype(str).tolist(),
    )
