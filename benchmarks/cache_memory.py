"""Bytes per customer in the feature cache (Redis `MEMORY USAGE`), projected to larger worlds.

Run after `valuechain materialize` against the store it wrote (REDIS_URL / KEY_PREFIX):

    python benchmarks/cache_memory.py [--sample 2000]

The number sizes Redis (or a Redis Cluster) for a population: a materialization holds two
versions at once while it writes the new one, and real-time event lists come on top.
"""

from __future__ import annotations

import argparse

from features.connect import open_store
from features.settings import get_settings

POPULATIONS = (1_000_000, 10_000_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=2000, help="customer hashes to measure")
    args = parser.parse_args()
    settings = get_settings()
    with open_store(settings, settings.state_dir) as store:
        per_customer = store.customer_bytes(args.sample)
        meta = store.read_meta()
    print(f"cache version {store.current_version()}: {meta.get('customers')} customers")
    print(f"mean MEMORY USAGE per customer hash: {per_customer:,.0f} bytes")
    for n in POPULATIONS:
        one = per_customer * n / 2**30
        print(f"{n:>12,} customers: {one:6.1f} GiB per version, {2 * one:6.1f} GiB while writing")


if __name__ == "__main__":
    main()
