"""The whole nightly retrain at growing scale, next to a plain implicit ALS fit, side by side.

For each size the script generates a world, then runs `valuechain train all` on it (recommender,
churn, lead, value table, materialize) as one child process, and a plain implicit ALS fit (64
factors, 15 iterations, one BLAS thread) on the same interactions as another child. It prints,
per size: seconds and peak RSS of each stage (from `train all --report`), the whole retrain's
wall time and peak RSS (`wait4` of its process), the plain fit's, and their ratio.

    python benchmarks/pipeline_scale.py                 # 10k and 100k customers
    python benchmarks/pipeline_scale.py --full          # also 1M customers
    python benchmarks/pipeline_scale.py --sizes 1000000

Targets (issue 9): 1M retrain <= 10 min, peak RSS <= 12 GiB, <= 6x the plain ALS fit; 100k <= 3
min. Runs against temp MLflow stores and state dirs; Redis is `--redis-url` (default `REDIS_URL`
or redis://127.0.0.1:6379/0) under a private key prefix deleted at the end (never FLUSHDB).
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000)
FULL_SIZE = 1_000_000
_ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"
_PLAIN_ALS = """
import sys, time
import numpy as np, pandas as pd, scipy.sparse as sp
from threadpoolctl import threadpool_limits
from implicit.cpu.als import AlternatingLeastSquares
frame = pd.read_parquet(sys.argv[1], columns=["customer_id", "item_id"])
users = frame["customer_id"].astype("category").cat.codes.to_numpy()
items = frame["item_id"].astype("category").cat.codes.to_numpy()
matrix = sp.csr_matrix((np.ones(len(frame), np.float32), (users, items)))
matrix.sum_duplicates()
start = time.perf_counter()
with threadpool_limits(limits=1, user_api="blas"):
    AlternatingLeastSquares(factors=64, iterations=15, random_state=0).fit(
        matrix, show_progress=False)
print(f"fit_seconds {time.perf_counter() - start:.2f}")
"""


@dataclass
class Run:
    """One child process: wall seconds, peak RSS, exit status and what it printed."""

    seconds: float
    rss_mib: float
    ok: bool
    output: str


@dataclass
class SizeResult:
    """Everything measured for one world size."""

    customers: int
    interactions: int
    generate: Run
    retrain: Run | None = None
    als_fit_seconds: float | None = None
    stages: list[dict[str, object]] = field(default_factory=list)


def run_child(cmd: list[str], env: dict[str, str], log: Path) -> Run:
    """Run a child process; return its wall time, peak RSS (`wait4`), status and output."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    ok = os.waitstatus_to_exitcode(status) == 0
    text = log.read_text(errors="replace")
    if not ok:
        tail = "\n    ".join(text.splitlines()[-15:])
        print(f"  ! {' '.join(cmd[-4:])} failed (log {log}):\n    {tail}", flush=True)
    return Run(seconds, usage.ru_maxrss / 1024, ok, text)


def valuechain(*args: str) -> list[str]:
    """The command line of `valuechain ARGS` with this interpreter."""
    return [sys.executable, "-c", _ENTRY, *args]


def run_size(customers: int, workdir: Path, env: dict[str, str], seed: int) -> SizeResult:
    """Generate a world, then the whole retrain and the plain ALS fit on it."""
    world = workdir / f"world-{customers}"
    env = dict(
        env,
        KEY_PREFIX=f"{env['KEY_PREFIX']}{customers}",
        MLFLOW_TRACKING_URI=f"sqlite:///{workdir}/mlflow-{customers}.db",
        MLFLOW_ARTIFACT_ROOT=(workdir / f"artifacts-{customers}").as_uri(),
        STATE_DIR=str(workdir / f"state-{customers}"),
    )
    gen_args = ["generate", "--out", str(world), "--customers", str(customers)]
    gen = run_child(
        valuechain(*gen_args, "--seed", str(seed), "--overwrite"),
        env,
        workdir / f"generate-{customers}.log",
    )
    rows = json.loads((world / "world.json").read_text())["rows"] if gen.ok else {}
    result = SizeResult(customers, int(rows.get("interactions", 0)), gen)
    print(f"  {customers:>9,} generate    {gen.seconds:8.1f} s {gen.rss_mib:8,.0f} MiB", flush=True)
    if not gen.ok:
        return result
    report = workdir / f"train-all-{customers}.json"
    retrain = run_child(
        valuechain("train", "all", "--data", str(world), "--report", str(report)),
        env,
        workdir / f"train-all-{customers}.log",
    )
    result.retrain = retrain
    if report.is_file():
        result.stages = json.loads(report.read_text())
    print(
        f"  {customers:>9,} train all   {retrain.seconds:8.1f} s {retrain.rss_mib:8,.0f} MiB",
        flush=True,
    )
    als_env = dict(env, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    plain = run_child(
        [sys.executable, "-c", _PLAIN_ALS, str(_interactions(world))],
        als_env,
        workdir / f"plain-als-{customers}.log",
    )
    if plain.ok:
        result.als_fit_seconds = float(plain.output.split("fit_seconds")[-1].split()[0])
        print(
            f"  {customers:>9,} plain ALS   {result.als_fit_seconds:8.1f} s (fit only)", flush=True
        )
    return result


def _interactions(world: Path) -> Path:
    for suffix in (".parquet", ".csv"):
        if (world / f"interactions{suffix}").is_file():
            return world / f"interactions{suffix}"
    raise FileNotFoundError(f"{world}: no interactions table")


def print_tables(results: list[SizeResult]) -> None:
    """Per-stage seconds and peak RSS by size; then the retrain against the plain ALS fit."""
    names = [str(s["name"]) for s in (results[0].stages if results else [])]
    head = f"{'stage':<18}" + "".join(f" {'s@' + _k(r):>9} {'MiB@' + _k(r):>10}" for r in results)
    print(head)
    for name in names:
        line = f"{name:<18}"
        for r in results:
            stage = next((s for s in r.stages if s["name"] == name), None)
            if stage is None or not stage["ok"]:
                line += f" {'-':>9} {'failed' if stage else '-':>10}"
            else:
                line += f" {float(stage['seconds']):9.1f} {float(stage['peak_rss_mib']):10,.0f}"
        print(line)
    print()
    print(
        f"{'customers':>10} {'interactions':>13} {'retrain s':>10} {'peak MiB':>9} "
        f"{'plain ALS s':>12} {'retrain/ALS':>12}"
    )
    for r in results:
        retrain, als = r.retrain, r.als_fit_seconds
        secs = f"{retrain.seconds:10.1f}" if retrain and retrain.ok else f"{'failed':>10}"
        rss = f"{retrain.rss_mib:9,.0f}" if retrain else f"{'-':>9}"
        ratio = f"{retrain.seconds / als:12.1f}" if retrain and retrain.ok and als else f"{'-':>12}"
        als_text = f"{als:12.1f}" if als else f"{'-':>12}"
        print(f"{r.customers:>10,} {r.interactions:>13,} {secs} {rss} {als_text} {ratio}")


def _k(result: SizeResult) -> str:
    n = result.customers
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


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
    """Parse arguments, run every size, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="comma-separated customer counts"
    )
    parser.add_argument("--full", action="store_true", help="also run 1M customers")
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
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        REDIS_URL=args.redis_url,
        KEY_PREFIX=prefix,
        MLFLOW_DISABLE_TELEMETRY="true",
        PYTHONUNBUFFERED="1",
    )
    print(f"sizes {sizes}; redis {args.redis_url} prefix {prefix}*", flush=True)
    tmp = tempfile.TemporaryDirectory(prefix="vc-scale-") if args.workdir is None else None
    workdir = Path(tmp.name) if tmp else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    try:
        for n in sizes:
            results.append(run_size(n, workdir, env, args.seed))
    finally:
        drop_prefix(args.redis_url, prefix)
        if tmp:
            tmp.cleanup()
    print()
    print_tables(results)


if __name__ == "__main__":
    main()
