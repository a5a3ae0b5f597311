"""`valuechain events export`: the API's accepted events to Parquet, for the next training."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.common import console
from features.settings import get_settings

events_app = typer.Typer(
    help="Events posted to the API (the durable stream).", no_args_is_help=True
)
app.add_typer(events_app, name="events")


@events_app.command("export")
def export(
    out: Annotated[
        Path,
        typer.Option(
            help="Directory for the Parquet files; use <data dir>/events so that "
            "`train ... --data <data dir>` includes them."
        ),
    ],
    batch: Annotated[int, typer.Option(min=1, help="Events per file (at most).")] = 10000,
    consumer: Annotated[
        str, typer.Option(help="Consumer name in the `export` group; keep it stable.")
    ] = "exporter",
    crash_at: Annotated[
        str | None, typer.Option(hidden=True, help="Test hook: kill this process at read|written.")
    ] = None,
) -> None:
    """Write every new accepted event to Parquet (interactions contract), exactly once.

    Files are named by their stream id range (events-<first>-<last>.parquet); events are
    acknowledged only once their file is written, so a crashed export re-runs safely.
    """
    from features.connect import open_store
    from features.event_export import EventExporter

    def hook(step: str) -> None:
        if step == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)  # a real crash: no cleanup, no ack

    settings = get_settings()
    with open_store(settings, settings.state_dir) as store:
        exporter = EventExporter(store.client, settings.key_prefix, consumer=consumer, batch=batch)
        report = exporter.run(out, on_step=hook if crash_at else None)
    skipped = f" ({report.skipped} unreadable skipped)" if report.skipped else ""
    console.print(f"exported {report.events:,} events in {len(report.files)} file(s){skipped}")
    for path in report.files:
        typer.echo(str(path))
