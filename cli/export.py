"""`valuechain export scores|recommendations|value`: bulk files for CRM import.

Read from the champions and the feature cache (run `materialize` first), for every customer in
the cache or the ids in `--ids FILE`, in chunks with a progress bar, into one CSV or Parquet file
that appears only once complete. Columns: see `models.exports` and the README.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from cli.app import export_app
from cli.common import champion, console, fail
from features.chunked import ChunkedTableWriter
from features.load import DataError, read_frame
from features.settings import get_settings
from features.store import OnlineStore
from models.champions import CHURN, RECOMMENDER
from models.exports import (
    ExportError,
    RowBuilder,
    chunks,
    export,
    recommendation_rows,
    score_rows,
    value_rows,
)

OutOpt = Annotated[
    Path, typer.Option("--out", help="Output file: .csv or .parquet (written all or nothing).")
]
IdsOpt = Annotated[
    Path | None,
    typer.Option(
        "--ids",
        help="Only these customers: a .txt file (one id per line) or a CSV/Parquet file with a "
        "customer_id column. Default: every customer in the cache.",
    ),
]
ChunkOpt = Annotated[
    int, typer.Option("--chunk", min=100, max=100_000, help="Customers read per round trip.")
]


@export_app.command("scores")
def export_scores(out: OutOpt, ids: IdsOpt = None, chunk: ChunkOpt = 5000) -> None:
    """Churn scores: customer_id, churn_probability, churn_score, risk_tier, top_reason, ..."""
    churn = champion(CHURN)
    _run("scores", out, ids, chunk, lambda as_of: score_rows(churn, as_of))


@export_app.command("recommendations")
def export_recommendations(
    out: OutOpt,
    ids: IdsOpt = None,
    chunk: ChunkOpt = 5000,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Items per customer.")] = 10,
) -> None:
    """Top-k items per customer: customer_id, rank, item_id, score, reason, source, ..."""
    rec = champion(RECOMMENDER)
    _run("recommendations", out, ids, chunk, lambda as_of: recommendation_rows(rec, k, as_of))


@export_app.command("value")
def export_value(out: OutOpt, ids: IdsOpt = None, chunk: ChunkOpt = 5000) -> None:
    """Value rows: customer_id, segment, value_tier, historical_value, predicted_clv, tags, ..."""
    _run("value", out, ids, chunk, value_rows)


def _run(
    what: str, out: Path, ids: Path | None, chunk: int, builder: Callable[[str | None], RowBuilder]
) -> None:
    from rich.progress import Progress

    from features.connect import open_store

    settings = get_settings()
    try:
        wanted = _read_ids(ids) if ids is not None else None
        with open_store(settings, settings.state_dir) as store, Progress(console=console) as bar:
            meta = store.read_meta()
            total = len(wanted) if wanted is not None else int(meta.get("customers", 0))
            task = bar.add_task(f"exporting {what}", total=total or None)
            with ChunkedTableWriter(out) as writer:
                report = export(
                    store,
                    _batches(store, wanted, chunk),
                    builder(meta.get("as_of")),
                    writer,
                    lambda n: bar.advance(task, n),
                )
    except (ExportError, DataError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    if report.missing:
        shown = ", ".join(report.missing[:5])
        console.print(f"[yellow]warning:[/] {len(report.missing)} ids not in the cache: {shown}")
    console.print(
        f"wrote {report.rows:,} rows for {report.customers:,} customers to {out} "
        f"(cache version {report.cache_version})"
    )


def _batches(store: OnlineStore, wanted: list[str] | None, size: int) -> Iterable[list[str]]:
    return store.customer_ids(size) if wanted is None else chunks(wanted, size)


def _read_ids(path: Path) -> list[str]:
    """Customer ids from a .txt file (one per line) or a CSV/Parquet `customer_id` column."""
    if path.suffix.lower() == ".txt":
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise DataError(path, f"cannot read: {exc}") from exc
        return [line.strip() for line in lines if line.strip()]
    frame = read_frame(path, columns=None)
    if "customer_id" not in frame.columns:
        raise DataError(path, "missing required column", column="customer_id")
    return frame["customer_id"].dropna().astype(str).tolist()
