"""The documentation names every column of every data contract."""

from __future__ import annotations

from pathlib import Path

from features.schema import TABLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_every_contract_column_is_documented() -> None:
    text = DOC.read_text()
    for table in TABLES.values():
        assert f"## {table.name}" in text
        for column in table.columns:
            assert f"`{column.name}`" in text, (table.name, column.name)
