"""Serving speed with wrk: valuechain vs the bare FastAPI + Redis limit and `mlflow models serve`.

One run builds (or reuses) a trained world in `--workdir`, starts a private redis-server on
127.0.0.1 and materializes the world into it, then starts, each with 2 workers:
`valuechain serve`; the churn champion's MLflow pyfunc under `mlflow models serve --env-manager
local`; and the bare-limit app (`bare_limit.py`: one async Redis GET + numpy top-k, or + one
LightGBM predict of the same churn booster). Each endpoint is loaded by `wrk -t1` at 1 and 8
connections with random customer ids / bodies (lua scripts in `lua/`), and one table prints
req/s, p50 and p99 with the ratios to the bare limit and to mlflow, the issue-13 targets, and
the per-entity cost of the batch score endpoints at batch 1, 10 and 100.

    python benchmarks/serve_wrk.py                          # 20k world in /tmp/vc-serve-wrk
    python benchmarks/serve_wrk.py --duration 5 --api-key KEY --workdir DIR

Sends `X-API-Key` when given `--api-key`, or creates a write key when this checkout has
`valuechain keys` (and lifts the per-key rate limit, which would otherwise cap the load). All
servers run in their own process groups and are stopped at the end, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serve_common import (
    PREFIX,
    REPO,
    bench_env,
    prepare,
    run_vc,
    sample_ids,
    stop_process,
    wait_ready,
)
from serve_report import print_batches, print_checks, print_table
from serve_targets import (
    Server,
    Target,
    api_key,
    batch_targets,
    mlflow_rows,
    start_bare,
    start_mlflow,
    start_vc,
    targets,
    write_inputs,
)
from wrk_runner import Cell, WrkError, median_cell, run_wrk, wrk_binary

sys.path.insert(0, str(REPO))

# Without a key header the service (after issue 12) answers 401; a benchmark key must not be
# throttled by the default per-key rate limit either.
KEY_ENV = {"RATE_LIMIT": "1000000/second"}
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vc-serve-wrk"))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk cell")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per target, not kept")
    parser.add_argument("--batch-duration", type=int, default=5, help="seconds per batch cell")
    parser.add_argument("--connections", default="1,8", help="comma-separated wrk -c values")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="times every cell is measured, interleaved; each cell reports its median round "
        "among those whose connections were spread most evenly over the server's workers",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers of every server")
    parser.add_argument("--api-key", default=None, help="X-API-Key to send to valuechain")
    parser.add_argument(
        "--rate-limit-scope",
        choices=("shared", "worker"),
        default="shared",
        help="RATE_LIMIT_SCOPE of valuechain: shared (the default, one Redis round trip per "
        "request) or worker (counted in each worker's memory)",
    )
    parser.add_argument("--recommender-args", default="", help="extra `train recommender` args")
    parser.add_argument("--ids", type=int, default=5000, help="random customers to request")
    return parser.parse_args()


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def champions(env: dict[str, str], cache: Path) -> dict[str, Any]:
    """Bundle paths of the recommender and churn champions and the churn run id."""
    from features.settings import Settings
    from models.champions import resolve_bundle

    settings = Settings(mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"])
    uri, alias = settings.mlflow_tracking_uri, settings.model_alias
    rec = resolve_bundle(uri, settings.recommender_model, alias, cache)
    churn = resolve_bundle(uri, settings.churn_model, alias, cache)
    if churn.run_id is None:
        raise SystemExit("the churn champion has no MLflow run: cannot serve its pyfunc")
    return {"rec": rec.path, "churn": churn.path, "churn_run": churn.run_id}


def cached_records(url: str, ids: list[str]) -> list[Any]:
    """The materialized records of `ids` in the private Redis."""
    from features.redis_store import RedisOnlineStore

    store = RedisOnlineStore.from_url(url, prefix=PREFIX)
    try:
        return [r for r in store.read_customers(ids) if r.materialized]
    finally:
        store.close()


def measure(
    rows: list[Target],
    bases: dict[str, str],
    conns: list[int],
    seconds: float,
    warmup: float,
    rounds: int = 1,
    workers: int = 0,
) -> dict[tuple[str, int], Cell]:
    """Every target at every connection count (all targets at 1, then all at 8, ...), `rounds`
    times over; each cell is its round with the median req/s."""
    runs: dict[tuple[str, int], list[Cell]] = {}
    warmed: set[str] = set()
    for r in range(rounds):
        for c in conns:
            for t in rows:
                url = bases[t.server]
                key = f"{t.name} {t.batch}"
                if key not in warmed and warmup > 0:
                    run_wrk(
                        url,
                        t.script,
                        t.env,
                        connections=max(conns),
                        duration=warmup,
                        headers=t.headers,
                    )
                    warmed.add(key)
                cell = run_wrk(
                    url,
                    t.script,
                    t.env,
                    connections=c,
                    duration=seconds,
                    headers=t.headers,
                    processes=workers,
                )
                runs.setdefault((key, c), []).append(cell)
                print(
                    f"  round {r + 1}/{rounds} {t.name:<40} batch {t.batch:>3} c={c}: "
                    f"{cell.rps:8.0f} req/s, connections per worker "
                    f"{'/'.join(map(str, cell.split)) or '?'}",
                    flush=True,
                )
    return {key: median_cell(cells) for key, cells in runs.items()}


def setup(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    """World, private Redis, materialize, API key, request inputs and the bare-limit keys."""
    from bare_limit import seed

    from features.embedded_redis import EmbeddedRedis
    from models.scoring.scorer import TabularScorer

    env = dict(bench_env(args.workdir), **ONE_THREAD)
    world = prepare(args.workdir, args.customers, env, args.recommender_args.split())
    server = stack.enter_context(EmbeddedRedis(args.workdir / "redis", persist=False))
    env["REDIS_URL"] = server.url
    print(f"  materialize into {server.url} ...", flush=True)
    materialize = ["materialize", "--data", str(world), "--value", str(world / "value.parquet")]
    run_vc(materialize, env, args.workdir / "materialize.log")
    key = api_key(args.api_key, env, args.workdir / "keys.log")
    env.update(KEY_ENV, RATE_LIMIT_SCOPE=args.rate_limit_scope)
    found = champions(env, args.workdir / "state" / "bench-bundles")
    customers, items = sample_ids(world, args.ids, 7)
    records = cached_records(server.url, customers)
    names = TabularScorer.load(found["churn"], kind="churn").feature_names
    inputs = args.workdir / "wrk-inputs"
    ids = [r.customer_id for r in records]
    files = write_inputs(inputs, ids, items, mlflow_rows(records, names))
    bare_env = seed(server.url, found["rec"], found["churn"], records, inputs)
    scope = args.rate_limit_scope
    print(f"  {len(ids):,} customers; API key: {'yes' if key else 'none'}; rate limits: {scope}")
    headers = {"X-API-Key": key} if key else {}
    return {"env": env, "files": files, "headers": headers, "bare": bare_env, **found}


def start_servers(
    args: argparse.Namespace, ctx: dict[str, Any], stack: contextlib.ExitStack
) -> dict[str, str]:
    """valuechain, mlflow and the bare limit, each stopped when `stack` closes; base URLs."""
    env, logs, n = ctx["env"], args.workdir, args.workers
    # Spawned side by side, then awaited: start-up is slow on a loaded machine.
    starters: dict[str, Callable[[], Server]] = {
        "vc": lambda: start_vc(env, n, logs / "serve.log"),
        "mlflow": lambda: start_mlflow(ctx["churn_run"], env, n, logs / "mlflow-serve.log"),
        "bare": lambda: start_bare(ctx["bare"], env, n, logs / "bare.log"),
    }
    servers = {}
    for name, start in starters.items():
        servers[name] = start()
        stack.callback(stop_process, servers[name].proc)
    print(f"  started {', '.join(servers)}; waiting until they answer ...", flush=True)
    for server in servers.values():
        wait_ready(server.proc, server.base + server.ready, server.log, timeout=300)
    return {name: server.base for name, server in servers.items()}


def run(args: argparse.Namespace, conns: list[int], stack: contextlib.ExitStack) -> None:
    """Everything between preparing the world and printing: servers up, wrk, servers down."""
    ctx = setup(args, stack)
    bases = start_servers(args, ctx, stack)
    rows, batches = (
        targets(ctx["files"], ctx["headers"]),
        batch_targets(ctx["files"], ctx["headers"]),
    )
    timing = (args.warmup, args.rounds, args.workers)
    cells = measure(rows, bases, conns, args.duration, *timing)
    cells |= measure(batches, bases, [min(conns), max(conns)], args.batch_duration, *timing)
    print(f"\nload after the run: {_uptime()}")
    print_table(rows, cells, conns)
    print_checks(cells, max(conns))
    print_batches(batches, cells, conns)


def main() -> None:
    """Check wrk, print the run's context, measure; stop every process on the way out."""
    args = parse_args()
    conns = sorted({int(c) for c in args.connections.split(",")})
    try:
        wrk_binary()
    except WrkError as exc:
        raise SystemExit(str(exc)) from exc
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # champions() runs in-process
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit.stdout.strip()}")
    print(f"command: python benchmarks/serve_wrk.py {' '.join(sys.argv[1:])}")
    print(f"load before the run: {_uptime()} ({os.cpu_count()} cores)")
    print(
        f"{args.customers:,} customers; {args.workers} workers per server; wrk -t1 at "
        f"{args.connections} connections, {args.duration:g} s per cell "
        f"(batches {args.batch_duration:g} s), median of {args.rounds} interleaved rounds"
    )
    # SIGTERM unwinds like Ctrl-C, so the ExitStack stops the servers and the private Redis.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.ExitStack() as stack:
        try:
            run(args, conns, stack)
        except WrkError as exc:
            raise SystemExit(str(exc)) from exc


if __name__ == "__main__":
    main()
