"""MovieLens 100K (1998: 943 users, 1,682 films, 100,000 ratings) through the BYOD CLI.

The classic GroupLens set (not the 2016 `ml-latest-small` sample that `movielens.py` uses): the
`recbole` wheel ships it as `recbole/dataset_example/ml-100k/` (tab-separated text); the wheel is
downloaded with `pip download --no-deps` into the cache at run time and only those files are
read (recbole itself is never installed or imported), nothing is committed. Ratings are
implicit feedback; each user's last 20% of ratings by time are the test set. The train part
goes through `valuechain train recommender --data DIR --split last` (validation on each user's
last 20% of training ratings, as the test) and `valuechain recommend`, printed beside
popularity and a plain implicit ALS on the same split (`benchmarks/recsys_common.py`).

    python -m benchmarks.movielens_100k [--trials 12] [--time-budget S] [--split last] [--cache DIR]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd

from benchmarks import recsys_common as rc

PACKAGE = "recbole"
DATA = "recbole/dataset_example/ml-100k/ml-100k"


def load(cache: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings as (customer, item, time) events, and films with their first genre."""
    wheel = rc.fetch_wheel(PACKAGE, cache)
    ratings = pd.read_csv(io.BytesIO(rc.read_member(wheel, f"{DATA}.inter")), sep="\t", dtype=str)
    films = pd.read_csv(io.BytesIO(rc.read_member(wheel, f"{DATA}.item")), sep="\t", dtype=str)
    events = pd.DataFrame(
        {
            "customer_id": ratings["user_id:token"],
            "item_id": ratings["item_id:token"],
            "timestamp": pd.to_datetime(ratings["timestamp:float"].astype(float), unit="s"),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": films["item_id:token"],
            "category": films["class:token_seq"].fillna("unknown").str.split(" ").str[0],
        }
    )
    return events, items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    rc.add_options(parser)
    args = parser.parse_args()
    events, items = load(args.cache)
    train, test = rc.split_last_fraction(events, 0.2)
    rc.run(train, test, items, args, split="last")


if __name__ == "__main__":
    main()
