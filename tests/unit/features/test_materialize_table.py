"""A user's churn feature table shaped for the cache (features.materialize_table)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from features.load import DataError
from features.materialize import FeatureGap, check_churn_features
from features.materialize_table import latest_rows, table_features


def test_rows_are_keyed_by_id_without_label_or_time() -> None:
    frame = pd.DataFrame(
        {"customer": [12, 7], "tenure": [3, 40], "plan": ["a", "b"], "churn": ["Yes", "No"]}
    )
    feats = table_features(frame, "t.csv", "customer", drop=["churn", "snapshot"])
    assert feats.index.tolist() == ["12", "7"]
    assert list(feats.columns) == ["tenure", "plan"]


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame({"id": ["a", None], "x": [1, 2]}), r"t.csv, column 'id', row 2: empty id"),
        (pd.DataFrame({"id": ["a", "b", "a"], "x": [1, 2, 3]}), r"row 3: duplicate id 'a'"),
        (pd.DataFrame({"user": ["a"], "x": [1]}), r"t.csv, column 'id': no id column"),
    ],
)
def test_bad_ids_name_the_file_column_and_row(frame: pd.DataFrame, words: str) -> None:
    with pytest.raises(DataError, match=words):
        table_features(frame, "t.csv", "id")


def test_snapshots_keep_each_customers_latest() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "a"],
            "snapshot": ["2024-03-01", "2024-01-01", "2024-01-01"],
            "x": [3, 2, 1],
        }
    )
    latest = latest_rows(frame, "id", "snapshot")
    assert dict(zip(latest["id"], latest["x"], strict=True)) == {"a": 3, "b": 2}
    assert latest_rows(frame, "id", None) is frame


@dataclass
class _Scorer:
    feature_names: list[str]


def test_a_churn_champion_needs_its_features_in_the_data() -> None:
    # Guards issue 10: a table-trained churn champion scored every customer on unknowns.
    check_churn_features(_Scorer(["tenure", "plan"]), ["tenure", "plan", "extra"], "t.csv")
    check_churn_features(None, [], "t.csv")
    with pytest.raises(
        FeatureGap, match=r"t.csv lacks 1 of the churn champion's features \(plan\)"
    ):
        check_churn_features(_Scorer(["tenure", "plan"]), ["tenure"], "t.csv")
