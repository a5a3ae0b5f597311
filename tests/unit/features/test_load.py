"""Loading validates files against the data contracts and names file, column and row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.load import DataError, load_table, read_frame, write_frame


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_and_parquet_load_to_the_same_typed_frame(tmp_path: Path) -> None:
    csv = _write(
        tmp_path / "interactions.csv",
        "customer_id,item_id,event_type,timestamp,quantity,amount\n"
        "1,a,view,2024-01-01T10:00:00,1,0\n2,b,purchase,2024-01-02,2,10.5\n",
    )
    frame = load_table(csv, "interactions")
    frame.to_parquet(tmp_path / "interactions.parquet")
    again = load_table(tmp_path / "interactions.parquet", "interactions")
    pd.testing.assert_frame_equal(frame, again)
    assert frame["customer_id"].tolist() == ["1", "2"]
    assert frame["timestamp"].dtype == "datetime64[ns]"


def test_optional_columns_get_defaults(tmp_path: Path) -> None:
    csv = _write(
        tmp_path / "i.csv", "customer_id,item_id,event_type,timestamp\n1,a,purchase,2024-01-01\n"
    )
    frame = load_table(csv, "interactions")
    assert frame["quantity"].tolist() == [1] and frame["amount"].tolist() == [0.0]


@pytest.mark.parametrize(
    ("body", "column", "row", "words"),
    [
        ("customer_id,item_id,timestamp\n1,a,2024-01-01\n", "event_type", None, "missing"),
        (
            "customer_id,item_id,event_type,timestamp\n1,a,view,2024-01-01\n2,b,buy,2024-01-01\n",
            "event_type",
            2,
            "not one of",
        ),
        (
            "customer_id,item_id,event_type,timestamp\n1,a,view,2024-01-01\n2,b,view,someday\n",
            "timestamp",
            2,
            "not a valid datetime",
        ),
        (
            "customer_id,item_id,event_type,timestamp,quantity\n1,a,view,2024-01-01,1.5\n",
            "quantity",
            1,
            "whole number",
        ),
        (
            "customer_id,item_id,event_type,timestamp,amount\n1,a,view,2024-01-01,-3\n",
            "amount",
            1,
            "below the minimum",
        ),
        (
            "customer_id,item_id,event_type,timestamp\n,a,view,2024-01-01\n",
            "customer_id",
            1,
            "empty value",
        ),
    ],
)
def test_violations_name_file_column_and_row(
    tmp_path: Path, body: str, column: str, row: int | None, words: str
) -> None:
    path = _write(tmp_path / "interactions.csv", body)
    with pytest.raises(DataError) as info:
        load_table(path, "interactions")
    assert info.value.column == column and info.value.row == row
    assert str(path) in str(info.value) and words in str(info.value)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "items.csv", "item_id,category,brand,price\na,x,y,1\na,x,y,2\n")
    with pytest.raises(DataError, match="duplicate item_id a") as info:
        load_table(path, "items")
    assert info.value.row == 2


def test_unknown_file_type_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_table(tmp_path / "nope.csv", "items")
    with pytest.raises(DataError, match="unsupported file type"):
        load_table(_write(tmp_path / "items.xlsx", "x"), "items")


def test_write_frame_round_trips_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name in ("out.csv", "out.parquet"):
        write_frame(frame, tmp_path / name)
        assert read_frame(tmp_path / name)["b"].tolist() == ["x", "y"]
    bad = pd.DataFrame({"a": [object()]})  # parquet cannot store it
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's error type varies by version
        write_frame(bad, tmp_path / "bad.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet"]
