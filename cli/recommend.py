"""`valuechain recommend`: batch recommendations with the champion recommender."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cli.app import app
from cli.common import champion, console, fail, progress_bar
from features.load import DataError, read_frame, write_frame
from models.champions import RECOMMENDER
from models.recommender.model import RecFilters, RecommenderModel


def _require(frame: pd.DataFrame, path: Path, column: str) -> None:
    if column not in frame.columns:
        raise DataError(
            str(path), f"missing required column; found {list(frame.columns)}", column=column
        )


@app.command("recommend")
def recommend_cmd(
    customers: Annotated[Path, typer.Option(help="CSV/Parquet with a customer_id column.")],
    out: Annotated[Path, typer.Option(help="Output CSV: customer_id, rank, item_id, score.")],
    k: Annotated[int, typer.Option(min=1, max=1000, help="Items per customer.")] = 10,
) -> None:
    """Batch recommendations with the champion, excluding each customer's training items."""
    try:
        frame = read_frame(customers)
        _require(frame, customers, "customer_id")
    except DataError as exc:
        raise fail(str(exc)) from exc
    loaded = champion(RECOMMENDER)
    rows = _recommend_all(loaded.model, frame["customer_id"], k)
    _write_csv(rows, out)
    print(
        f"wrote {len(rows):,} rows for {frame['customer_id'].nunique():,} customers to {out} "
        f"(model version {loaded.version})"
    )


def _recommend_all(model: RecommenderModel, ids: pd.Series, k: int) -> pd.DataFrame:
    records: list[tuple[str, int, str, float]] = []
    unique = ids.astype("string").str.strip().dropna().unique().tolist()
    with progress_bar("recommending") as update:
        for n, cid in enumerate(unique):
            state = model.online_state(cid)
            seen = frozenset(model.history_item_ids(cid))
            result = model.recommend(
                state, [], k, RecFilters(exclude=seen), segment=model.customer_segment(cid)
            )
            records.extend(
                (cid, rank, item.item_id, item.score)
                for rank, item in enumerate(result.items, start=1)
            )
            if n % 500 == 0 or n + 1 == len(unique):
                update(n + 1, len(unique))
    return pd.DataFrame(records, columns=["customer_id", "rank", "item_id", "score"])


def _write_csv(rows: pd.DataFrame, out: Path) -> None:
    write_frame(rows, out)
    console.print(f"[green]ok[/green] {out}")
