"""The recommendation benchmarks' shared protocol (`benchmarks/recsys_common.py`): split, metrics.

The benchmarks themselves never run as tests (they download data and train for minutes); their
pure helpers do, since every published benchmark number rests on them.
"""

from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest

from benchmarks.recsys_common import (
    new_items_only,
    popularity_recs,
    ranking_metrics,
    split_last_basket,
    split_last_fraction,
    train_args,
    user_ndcg,
)
from benchmarks.recsys_report import paired_gap
from benchmarks.wrk_runner import Cell, median_cell, split_of
from training.recommender.data import temporal_split


def _events(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "item_id", "basket_id", "timestamp"])


def test_last_fraction_holds_out_each_customers_latest_events() -> None:
    # a: 5 events -> floor(1.0) = 1 held out, the latest even though it is listed first;
    # b: 4 events -> floor(0.8) = 0 held out.
    rows = [("a", "late", "-", 9)] + [("a", f"i{t}", "-", t) for t in range(4)]
    rows += [("b", f"j{t}", "-", t) for t in range(4)]
    train, test = split_last_fraction(_events(rows), 0.2)
    assert test["item_id"].tolist() == ["late"]
    assert len(train) == 8


def test_last_basket_is_the_latest_basket_and_needs_an_earlier_one() -> None:
    events = _events(
        [
            ("a", "milk", "b2", 5),  # a's last basket by time, though listed first
            ("a", "eggs", "b2", 6),
            ("a", "milk", "b1", 1),
            ("b", "tea", "b3", 2),  # b has one basket: nothing to recommend from
        ]
    )
    train, test = split_last_basket(events, "basket_id")
    assert sorted(test["item_id"]) == ["eggs", "milk"]
    assert set(test["basket_id"]) == {"b2"}
    assert sorted(train["basket_id"]) == ["b1", "b3"]


def test_the_cli_validation_split_mirrors_the_benchmark_test_split() -> None:
    # `train_args` passes the protocol's split to the CLI, and the CLI's holdout then is the one
    # the benchmark tests on: with a basket's lines at one time (as in The Complete Journey)
    # `--split basket` holds out the last basket; with distinct times (ratings) `--split last`
    # the last 20% of events. (The CLI keeps events tied in time with a fit event in fit.)
    baskets = [("a", f"i{t}", f"b{t // 3}", t // 3) for t in range(9)]
    baskets += [("b", f"j{t}", f"c{t // 2}", 10 + t // 2) for t in range(10)]
    ratings = [("a", f"i{t}", "-", t) for t in range(9)] + [("b", "j", "-", 3)]
    ratings += [("b", f"j{t}", "-", 10 + t) for t in range(10)]
    for mode, split, rows in (
        ("basket", split_last_basket, baskets),
        ("last", split_last_fraction, ratings),
    ):
        events = _events(rows)
        _, test = split(events)
        _, holdout = temporal_split(events.assign(ts=events["timestamp"] * 1.0), 0.2, mode=mode)
        key = ["customer_id", "item_id"]
        expected = sorted(map(tuple, test[key].to_numpy()))
        assert expected and sorted(map(tuple, holdout[key].to_numpy())) == expected, mode
    args = argparse.Namespace(trials=3, time_budget=None)
    assert train_args(args, "basket") == ["--split", "basket", "--trials", "3"]
    args.split = "last"  # the command line may name another split
    assert train_args(args, "basket")[:2] == ["--split", "last"]


def test_new_items_only_drops_repurchases_and_duplicates() -> None:
    train = _events([("a", "milk", "b1", 1)])
    test = _events([("a", "milk", "b2", 5), ("a", "eggs", "b2", 5), ("a", "eggs", "b2", 6)])
    truth = new_items_only(train, test)
    assert truth.to_dict("records") == [{"customer_id": "a", "item_id": "eggs"}]


def test_ranking_metrics_by_hand() -> None:
    truth = pd.DataFrame({"customer_id": ["a", "a", "b"], "item_id": ["x", "y", "z"]})
    # a: a miss then a hit at rank 2; b: no list at all, so it scores 0; c is not in truth.
    recs = pd.DataFrame(
        {"customer_id": ["a", "a", "c"], "rank": [1, 2, 1], "item_id": ["w", "x", "z"]}
    )
    m = ranking_metrics(recs, truth, n_items=10, k=10)
    ndcg_a = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg"] == pytest.approx(ndcg_a / 2)
    assert m["recall"] == pytest.approx(0.5 / 2)
    assert m["precision"] == pytest.approx(1 / 10 / 2)
    assert m["map"] == pytest.approx((0.5 / 2) / 2)
    assert m["coverage"] == pytest.approx(2 / 10)


def test_popularity_skips_what_the_customer_already_has() -> None:
    # milk and tea: 2 customers each (ties go by id), jam: 1.
    rows = [("a", "milk", "-", 1), ("b", "milk", "-", 1), ("b", "tea", "-", 2)]
    train = _events([*rows, ("c", "tea", "-", 1), ("c", "jam", "-", 2)])
    recs = popularity_recs(train, ["b", "new"], k=2)
    assert recs[recs["customer_id"] == "b"]["item_id"].tolist() == ["jam"]
    assert recs[recs["customer_id"] == "new"]["item_id"].tolist() == ["milk", "tea"]


def test_per_customer_ndcg_and_the_paired_gap() -> None:
    truth = pd.DataFrame({"customer_id": ["a", "b"], "item_id": ["x", "z"]})
    recs = pd.DataFrame({"customer_id": ["a", "a"], "rank": [1, 2], "item_id": ["w", "x"]})
    mine = user_ndcg(recs, truth)
    assert mine.to_dict() == pytest.approx({"a": 1 / math.log2(3), "b": 0.0})
    gap, se = paired_gap(mine, pd.Series({"a": 0.0, "b": 0.5}))
    assert gap == pytest.approx((1 / math.log2(3) - 0.5) / 2)
    assert se == pytest.approx(abs(1 / math.log2(3) + 0.5) / 2)


def test_a_cell_is_its_median_round_kept_whole() -> None:
    runs = [Cell(900.0, 9.0, 30.0, 9000, 0), Cell(2000.0, 4.0, 9.0, 20000, 0)]
    runs.append(Cell(1500.0, 5.0, 99.0, 15000, 1))
    assert median_cell(runs) == runs[2]  # its own p99 and errors, not the others'
    assert median_cell(runs[:2]) == runs[0]  # even count: the lower middle
    assert median_cell(runs[1:2]) == runs[1]


def test_the_most_even_rounds_decide_and_idle_workers_count() -> None:
    listing = "\n".join(
        f'0 0 127.0.0.1:8000 127.0.0.1:{5000 + i} users:(("python",pid={pid},fd={9 + i}))'
        for i, pid in enumerate([11, 11, 11, 11, 11, 11, 12, 12])
    )
    assert split_of(listing, 2) == (6, 2)
    assert split_of(listing.splitlines()[0], 2) == (1, 0)  # the other worker holds none
    assert split_of("", 2) == ()
    lopsided = Cell(900.0, 9.0, 30.0, 9000, 0, (8, 0))
    even = [Cell(1800.0, 4.0, 9.0, 18000, 0, (4, 4)), Cell(1700.0, 4.0, 9.0, 17000, 0, (4, 4))]
    assert (lopsided.spread, even[0].spread) == (8, 0)
    assert median_cell([lopsided, *even]) == even[1]
