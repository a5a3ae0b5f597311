"""Latency and throughput of `valuechain serve` per endpoint, with Redis round trips per request.

Starts a private `redis-server` on loopback (so its counters are this run's alone), materializes a
trained world into it, starts `valuechain serve --workers 2`, waits for /readyz, then sends a
bounded number of requests per endpoint from a few client threads (keep-alive httpx clients)
and prints p50 / p95 / p99 latency, requests/s, and Redis reads per request (`total_reads_processed`
deltas: one per pipeline or command the server read, i.e. round trips) and commands per request.

    python benchmarks/serve_latency.py --workdir /tmp/vc-serve            # 10k-customer world
    python benchmarks/serve_latency.py --workdir DIR --customers 100000 --requests 2000

The world (generate, train x3, value) is built in `--workdir` once and reused on later runs; the
trainings use the temp MLflow store there. Client threads share the 2 cores with the server, so
absolute numbers are a lower bound on what a separate load generator would see.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from serve_common import (
    PREFIX,
    bench_env,
    free_port,
    prepare,
    run_vc,
    sample_ids,
    start_server,
    stop_process,
)

# The admin key created for this run (every /v1 route needs one); set in main().
HEADERS: dict[str, str] = {}
LEAD = {
    "source": "referral",
    "industry": "retail",
    "company_size": 120,
    "email_opens": 6,
    "web_visits": 9,
    "content_downloads": 2,
    "meetings": 1,
}

# One request: (client, customer ids, item ids, rng) -> the HTTP response(s) it produced.
Call = Callable[[httpx.Client, list[str], list[str], random.Random], list[httpx.Response]]


@dataclass
class Row:
    """Measurements of one endpoint."""

    name: str
    latencies: list[float]
    seconds: float
    errors: int
    reads: float
    commands: float


def endpoints() -> dict[str, Call]:
    """The measured requests, by name."""

    def get(path: str) -> Call:
        def call(
            c: httpx.Client, cust: list[str], items: list[str], rng: random.Random
        ) -> list[httpx.Response]:
            return [c.get(path.format(c=rng.choice(cust), i=rng.choice(items)))]

        return call

    def lead(
        c: httpx.Client, cust: list[str], items: list[str], rng: random.Random
    ) -> list[httpx.Response]:
        return [c.post("/v1/leads/score", json=dict(LEAD, email_opens=rng.randint(0, 20)))]

    def event_then_recs(
        c: httpx.Client, cust: list[str], items: list[str], rng: random.Random
    ) -> list[httpx.Response]:
        cid = rng.choice(cust)
        ev = {"customer_id": cid, "item_id": rng.choice(items), "event_type": "view"}
        return [c.post("/v1/events", json=ev), c.get(f"/v1/customers/{cid}/recommendations?k=10")]

    return {
        "recommendations": get("/v1/customers/{c}/recommendations?k=10"),
        "churn": get("/v1/customers/{c}/churn"),
        "lead score": lead,
        "customer 360": get("/v1/customers/{c}"),
        "similar": get("/v1/items/{i}/similar?k=10"),
        "bought-together": get("/v1/items/{i}/bought-together?k=10"),
        "event + recs": event_then_recs,
        "upsell": get("/v1/customers/{c}/upsell?k=5"),
    }


def _redis_counts(client: redis.Redis) -> tuple[int, int]:
    stats = client.info("stats")
    return int(stats["total_reads_processed"]), int(stats["total_commands_processed"])


def measure(
    name: str,
    call: Call,
    base: str,
    ids: tuple[list[str], list[str]],
    requests: int,
    clients: int,
    counter: redis.Redis,
) -> Row:
    """Send `requests` calls from `clients` threads; latency of each call (all its requests)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(n: int, seed: int) -> None:
        rng = random.Random(seed)
        mine, bad = [], 0
        with httpx.Client(base_url=base, timeout=30, headers=HEADERS) as client:
            for _ in range(n):
                started = time.perf_counter()
                responses = call(client, *ids, rng)
                mine.append(time.perf_counter() - started)
                bad += sum(r.status_code >= 400 for r in responses)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    shares = [requests // clients + (i < requests % clients) for i in range(clients)]
    reads0, cmds0 = _redis_counts(counter)
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n, i)) for i, n in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    reads1, cmds1 = _redis_counts(counter)
    # The INFO call itself is one read and one command.
    return Row(
        name,
        latencies,
        seconds,
        errors[0],
        (reads1 - reads0 - 1) / requests,
        (cmds1 - cmds0 - 1) / requests,
    )


def print_rows(rows: list[Row]) -> None:
    """One line per endpoint."""
    print(
        f"{'endpoint':<17} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} "
        f"{'errors':>6} {'redis reads/req':>15} {'cmds/req':>9}"
    )
    for r in rows:
        q = statistics.quantiles(r.latencies, n=100, method="inclusive")
        print(
            f"{r.name:<17} {len(r.latencies):>6} {q[49] * 1e3:8.2f} {q[94] * 1e3:8.2f} "
            f"{q[98] * 1e3:8.2f} {len(r.latencies) / r.seconds:8.0f} {r.errors:>6} "
            f"{r.reads:15.2f} {r.commands:9.2f}"
        )


def main() -> None:
    """Prepare, materialize into a private Redis, serve, measure, print."""
    from features.api_keys import ApiKeyStore, KeyRole
    from features.embedded_redis import EmbeddedRedis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        required=True,
        help="world, MLflow store and logs (reused across runs)",
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--only", default="", help="comma-separated endpoint names")
    parser.add_argument(
        "--recommender-args",
        default="",
        help="extra `train recommender` arguments, e.g. '--no-ranker'",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = bench_env(args.workdir)
    world = prepare(args.workdir, args.customers, env, args.recommender_args.split())
    with EmbeddedRedis(args.workdir / "redis", persist=False) as server:
        env["REDIS_URL"] = server.url
        print(f"  materialize into {server.url} ...", flush=True)
        run_vc(
            ["materialize", "--data", str(world), "--value", str(world / "value.parquet")],
            env,
            args.workdir / "materialize.log",
        )
        keys = ApiKeyStore(redis.Redis.from_url(server.url), PREFIX)
        HEADERS["X-API-Key"] = keys.replace("bench", KeyRole.admin)
        env["RATE_LIMIT"] = "1000000/second"  # measure serving, not the limiter refusing
        port = free_port()
        proc = start_server(env, port, args.workers, args.workdir / "serve.log")
        try:
            rows = run_all(
                args,
                f"http://127.0.0.1:{port}",
                sample_ids(world, 5000, 7),
                redis.Redis.from_url(server.url),
            )
        finally:
            stop_process(proc)
    print(
        f"\n{args.customers:,} customers; {args.requests} requests per endpoint from "
        f"{args.clients} client threads; {args.workers} workers"
    )
    print_rows(rows)


def run_all(
    args: argparse.Namespace, base: str, ids: tuple[list[str], list[str]], counter: redis.Redis
) -> list[Row]:
    """Warm up each endpoint, then measure it."""
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    rows = []
    for name, call in endpoints().items():
        if wanted and name not in wanted:
            continue
        measure(name, call, base, ids, min(50, args.requests), args.clients, counter)  # warm-up
        rows.append(measure(name, call, base, ids, args.requests, args.clients, counter))
        print(f"  {name}: done", flush=True)
    return rows


if __name__ == "__main__":
    main()
