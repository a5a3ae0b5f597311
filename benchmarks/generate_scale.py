"""Time and memory of `valuechain generate` at growing scale.

Each case runs in a fresh process (so its peak RSS is its own) and prints one row:
customers, rows written (all tables), interactions, seconds, rows/s and peak RSS.

    python benchmarks/generate_scale.py            # 20k and 100k customers
    python benchmarks/generate_scale.py --full     # also 1M customers (~20M interactions)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = (20_000, 100_000)
FULL_CASE = 1_000_000
REPO = Path(__file__).resolve().parents[1]
_ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"


def run_case(customers: int, seed: int, fmt: str, workdir: Path) -> dict[str, float]:
    """Generate one world in a child process; return its counts, time and peak RSS."""
    out = workdir / f"world-{customers}"
    cmd = [
        sys.executable,
        "-c",
        _ENTRY,
        "generate",
        "--out",
        str(out),
        "--customers",
        str(customers),
        "--seed",
        str(seed),
        "--format",
        fmt,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"generate failed for {customers} customers: {' '.join(cmd)}")
    rows = json.loads((out / "world.json").read_text())["rows"]
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "customers": customers,
        "rows": sum(rows.values()),
        "interactions": rows["interactions"],
        "seconds": seconds,
        "rss_mib": usage.ru_maxrss / 1024,
        "disk_mib": size / 2**20,
    }


def main() -> None:
    """Run the cases and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 1M customers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where to write the worlds (default: a temp dir, removed after)",
    )
    args = parser.parse_args()
    cases = (*CASES, FULL_CASE) if args.full else CASES
    header = (
        f"{'customers':>10} {'rows':>12} {'interactions':>13} {'seconds':>9} "
        f"{'rows/s':>11} {'peak RSS MiB':>13} {'disk MiB':>9}"
    )
    print(f"format={args.format} seed={args.seed}")
    print(header)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for customers in cases:
            r = run_case(customers, args.seed, args.format, Path(tmp))
            print(
                f"{r['customers']:>10,} {r['rows']:>12,} {r['interactions']:>13,} "
                f"{r['seconds']:>9.1f} {r['rows'] / r['seconds']:>11,.0f} "
                f"{r['rss_mib']:>13,.0f} {r['disk_mib']:>9,.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
