"""Time and memory of every offline stage at growing scale, side by side.

Each stage (generate, train recommender / churn / lead, value, materialize) runs as its own
`valuechain` child process, so its peak RSS (`ru_maxrss` from `wait4`) is its own. For each size
the script prints seconds, peak RSS and rows/s per stage; the last columns are the ratios between
the largest and the smallest size (time ratio vs. size ratio: linear scaling has them equal).

    python benchmarks/pipeline_scale.py                       # 10k and 100k customers
    python benchmarks/pipeline_scale.py --full                # also 1M customers
    python benchmarks/pipeline_scale.py --sizes 1000000 --stages generate,value,materialize

Runs against a temp MLflow store and state dir; Redis is `--redis-url` (default `REDIS_URL` or
redis://127.0.0.1:6379/0) under a private key prefix that is deleted at the end (never FLUSHDB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000)
FULL_SIZE = 1_000_000
STAGES = ("generate", "recommender", "churn", "lead", "value", "materialize")
_ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"


@dataclass
class Result:
    """One stage at one size."""

    stage: str
    customers: int
    rows: int
    seconds: float
    rss_mib: float
    ok: bool


def stage_args(
    stage: str, world: Path, trials: int | None, rec_args: list[str], mat_args: list[str]
) -> list[str]:
    """The `valuechain` arguments of a stage (generate is built by the caller)."""
    extra = ["--trials", str(trials)] if trials else []
    return {
        "recommender": ["train", "recommender", "--data", str(world), *rec_args],
        "churn": ["train", "churn", "--data", str(world), *extra],
        "lead": ["train", "lead", "--data", str(world), *extra],
        "value": ["value", "--data", str(world), "--out", str(world / "value.parquet")],
        "materialize": [
            "materialize",
            "--data",
            str(world),
            "--value",
            str(world / "value.parquet"),
            *mat_args,
        ],
    }[stage]


def run_stage(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, bool]:
    """Run `valuechain ARGS` in a child; return (seconds, peak RSS MiB, succeeded)."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    ok = os.waitstatus_to_exitcode(status) == 0
    if not ok:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(
            f"  ! {' '.join(args[:2])} failed (log {log}):\n    " + "\n    ".join(tail), flush=True
        )
    return seconds, usage.ru_maxrss / 1024, ok


def stage_rows(stage: str, counts: dict[str, int]) -> int:
    """The input rows a stage processes (what rows/s is measured against)."""
    if stage == "generate":
        return sum(counts.values())
    if stage == "lead":
        return counts.get("leads", 0)
    if stage in ("recommender", "churn", "value"):
        return counts["interactions"]
    return counts["customers"]


def run_size(
    customers: int,
    stages: list[str],
    workdir: Path,
    env: dict[str, str],
    seed: int,
    trials: int | None,
    extra: dict[str, list[str]],
) -> list[Result]:
    """All stages for one world size, in pipeline order; a failed stage stops the rest."""
    world = workdir / f"world-{customers}"
    env = dict(
        env,
        KEY_PREFIX=f"{env['KEY_PREFIX']}{customers}",
        MLFLOW_TRACKING_URI=f"sqlite:///{workdir}/mlflow-{customers}.db",
        MLFLOW_ARTIFACT_ROOT=(workdir / f"artifacts-{customers}").as_uri(),
        STATE_DIR=str(workdir / f"state-{customers}"),
    )
    results = []
    for stage in STAGES:
        if stage not in stages:
            continue
        if stage == "generate":
            args = [
                "generate",
                "--out",
                str(world),
                "--customers",
                str(customers),
                "--seed",
                str(seed),
                "--overwrite",
            ]
        else:
            args = stage_args(stage, world, trials, extra["recommender"], extra["materialize"])
        seconds, rss, ok = run_stage(args, env, workdir / f"{stage}-{customers}.log")
        counts = json.loads((world / "world.json").read_text())["rows"]
        results.append(Result(stage, customers, stage_rows(stage, counts), seconds, rss, ok))
        print(f"  {customers:>9,} {stage:<12} {seconds:8.1f} s {rss:8,.0f} MiB", flush=True)
        if not ok:
            break
    return results


def print_table(results: list[Result], sizes: list[int]) -> None:
    """Stages as rows; per size: seconds, peak RSS, rows/s; then last/first ratios."""
    head = f"{'stage':<12}"
    for n in sizes:
        tag = f"{n // 1000}k"
        head += f" {'s@' + tag:>9} {'MiB@' + tag:>9} {'rows/s@' + tag:>12}"
    if len(sizes) > 1:
        head += f" {'time x':>7} {'RSS x':>6} (size x{sizes[-1] / sizes[0]:g})"
    print(head)
    by = {(r.stage, r.customers): r for r in results}
    for stage in STAGES:
        cells = [by.get((stage, n)) for n in sizes]
        if not any(cells):
            continue
        line = f"{stage:<12}"
        for r in cells:
            if r is None or not r.ok:
                line += f" {'-':>9} {'-':>9} {'failed' if r else '-':>12}"
            else:
                line += f" {r.seconds:9.1f} {r.rss_mib:9,.0f} {r.rows / r.seconds:12,.0f}"
        first, last = cells[0], cells[-1]
        if len(sizes) > 1 and first and last and first.ok and last.ok:
            line += f" {last.seconds / first.seconds:7.1f} {last.rss_mib / first.rss_mib:6.1f}"
        print(line)


def drop_prefix(redis_url: str, prefix: str) -> None:
    """Delete this run's keys (SCAN + UNLINK on the private prefix only)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    batch = []
    for key in client.scan_iter(match=f"{prefix}*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)
    client.close()


def main() -> None:
    """Parse arguments, run every size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="comma-separated customer counts"
    )
    parser.add_argument("--full", action="store_true", help="also run 1M customers")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma-separated subset of {','.join(STAGES)} (in this order)",
    )
    parser.add_argument(
        "--trials", type=int, default=None, help="--trials for churn and lead (default: the CLI's)"
    )
    parser.add_argument(
        "--recommender-args",
        default="",
        help="extra `train recommender` arguments, e.g. '--trials 4 --no-ranker'",
    )
    parser.add_argument(
        "--materialize-args",
        default="",
        help="extra `materialize` arguments, e.g. '--without-models'",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep worlds, logs and MLflow here (default: a temp dir, removed)",
    )
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({FULL_SIZE} if args.full else set()))
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}")
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        REDIS_URL=args.redis_url,
        KEY_PREFIX=prefix,
        MLFLOW_DISABLE_TELEMETRY="true",
        PYTHONUNBUFFERED="1",
    )
    print(f"sizes {sizes}; stages {stages}; redis {args.redis_url} prefix {prefix}*", flush=True)
    results: list[Result] = []
    tmp = tempfile.TemporaryDirectory(prefix="vc-scale-") if args.workdir is None else None
    workdir = Path(tmp.name) if tmp else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for n in sizes:
            results += run_size(
                n,
                stages,
                workdir,
                env,
                args.seed,
                args.trials,
                {
                    "recommender": args.recommender_args.split(),
                    "materialize": args.materialize_args.split(),
                },
            )
    finally:
        drop_prefix(args.redis_url, prefix)
        if tmp:
            tmp.cleanup()
    print()
    print_table(results, sizes)


if __name__ == "__main__":
    main()
