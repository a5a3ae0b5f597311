"""The chunked table writer: CSV or Parquet, all or nothing, readable by an importer."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest

from features.chunked import ChunkedTableWriter


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_chunks_append_into_one_table(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with ChunkedTableWriter(path) as writer:
        writer.write(
            pd.DataFrame({"id": ["a", "b"], "x": [None, None], "tags": [["t1", "t2"], []]})
        )
        writer.write(pd.DataFrame({"id": ["c"], "x": [1.5], "tags": [["t3"]]}))
    frame = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
    assert frame["id"].tolist() == ["a", "b", "c"]
    assert writer.rows == 3
    if name.endswith(".csv"):
        assert frame["tags"].fillna("").tolist() == ["t1|t2", "", "t3"]
    else:  # a column all-null in the first chunk still takes later values
        assert frame["x"].tolist()[2] == "1.5"
    assert path.stat().st_mode & stat.S_IROTH  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_a_failure_leaves_nothing_behind(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("the previous export")
    with pytest.raises(RuntimeError), ChunkedTableWriter(path) as writer:
        writer.write(pd.DataFrame({"id": ["a"]}))
        raise RuntimeError("interrupted")
    assert path.read_text() == "the previous export"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"out\.xlsx: unsupported file type"):
        ChunkedTableWriter(tmp_path / "out.xlsx")
