"""Client CPU of the online store on one Redis next to a three-master Redis Cluster.

Same process, same records, same reads: writes a version of `--customers` synthetic customers
(30 features, a value row, a 512-byte recommender state), then times customer reads, batch
reads and event appends. The cluster is started for the run (three `redis-server` masters on
loopback, as the tests do); the single Redis is REDIS_URL (default 127.0.0.1:6379), under a
random key prefix deleted afterwards.

    PYTHONPATH=. python benchmarks/redis_cluster.py [--customers 20000] [--reads 5000]

CPU seconds (`time.process_time`) are the result: they are this process's alone, while wall
times on a shared machine are not.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from features.redis_store import RedisOnlineStore
from features.store import CustomerRecord, Event
from tests.integration.processes import redis_cluster


def cpu_us(func: Callable[[], object], times: int) -> float:
    """Mean CPU microseconds of `func()` over `times` calls."""
    start = time.process_time()
    for _ in range(times):
        func()
    return (time.process_time() - start) * 1e6 / times


def measure(store: RedisOnlineStore, records: list[CustomerRecord], ids: list[str]) -> list[float]:
    start = time.process_time()
    version = store.begin_version()
    store.write_customers(version, records)
    store.commit_version(version)
    write_s = time.process_time() - start
    reads = iter(ids)
    batches = iter([ids[k : k + 50] for k in range(0, len(ids), 50)])
    appends = iter(
        [[Event(c, "i1", "view", 1.0) for c in ids[k : k + 10]] for k in range(0, 500, 10)]
    )
    read = cpu_us(lambda: store.read_customer(next(reads)), len(ids))
    batch = cpu_us(lambda: store.read_customers(next(batches)), len(ids) // 50)
    append = cpu_us(lambda: store.append_events(next(appends)), 50)
    keys = list(store.client.scan_iter(match=f"{store.layout.prefix}:*", count=5000))
    for at in range(0, len(keys), 1000):
        store.client.delete(*keys[at : at + 1000])
    return [write_s, read, batch, append]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=5_000)
    args = parser.parse_args()
    rng = random.Random(7)
    records = [
        CustomerRecord(
            f"C{i}",
            features={f"f{j}": rng.random() for j in range(30)},
            value={"tier": "high", "clv": rng.random()},
            rec_state={"uf": os.urandom(512)},
        )
        for i in range(args.customers)
    ]
    ids = [f"C{rng.randrange(args.customers)}" for _ in range(args.reads)]
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    single = RedisOnlineStore.from_url(url, prefix=prefix)
    on_single = measure(single, records, ids)
    single.close()
    with redis_cluster(Path(tempfile.mkdtemp(prefix="bench-cluster-"))) as cluster_url:
        clustered = RedisOnlineStore.from_url(cluster_url, cluster=True, prefix=prefix)
        on_cluster = measure(clustered, records, ids)
        clustered.close()
    rows = [
        f"write {args.customers:,} customers + commit (CPU s)",
        "read_customer, with events (CPU us)",
        "read_customers, 50 ids (CPU us)",
        "append_events, 10 customers (CPU us)",
    ]
    print("| measure | one Redis | 3-master cluster | cluster / one |\n|---|---|---|---|")
    for name, one, many in zip(rows, on_single, on_cluster, strict=True):
        print(f"| {name} | {one:,.1f} | {many:,.1f} | {many / one:.2f}x |")


if __name__ == "__main__":
    main()
