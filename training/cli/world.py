"""`valuechain generate`: write a synthetic CRM world (customers, items, interactions, leads,
tickets) to a directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from training.cli.app import app
from training.synth import SynthError, WorldConfig, generate_world
from training.synth.config import DEFAULT_DAYS, DEFAULT_END
from training.synth.runner import check_target, n_chunks


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to create (absent or empty).")],
    customers: Annotated[int, typer.Option(help="Number of customers (>= 1).")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed and arguments, same files.")],
    items: Annotated[int | None, typer.Option(
        help="Catalogue size; default customers // 20 clamped to [200, 50000].")] = None,
    days: Annotated[int, typer.Option(
        help="Length of the simulated window in days.")] = DEFAULT_DAYS,
    end: Annotated[str, typer.Option(
        help="End of the window (exclusive), YYYY-MM-DD; also the suggested as_of.")]
        = DEFAULT_END.isoformat(),
    fmt: Annotated[str, typer.Option("--format", help="File format: parquet or csv.")] = "parquet",
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
) -> None:
    """Generate a synthetic shop with learnable structure (taste, tiers, complements, churn)."""
    console = Console(stderr=True)
    try:
        end_date = datetime.strptime(end, "%Y-%m-%d").date()
    except ValueError:
        console.print(f"[red]error:[/red] --end must be YYYY-MM-DD, got {end!r}", soft_wrap=True)
        raise typer.Exit(2) from None
    config = WorldConfig(customers=customers, seed=seed, items=items, days=days, end=end_date,
                         fmt=fmt)  # type: ignore[arg-type]  # validated below
    try:
        config.validate()
        check_target(out, overwrite=overwrite)
        summary = _run(out, config, overwrite, console)
    except SynthError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    rows = ", ".join(f"{name} {count:,}" for name, count in summary["rows"].items())
    print(f"wrote {out}: {rows}; as_of {summary['as_of']}")


def _run(out: Path, config: WorldConfig, overwrite: bool, console: Console) -> dict:
    columns = (TextColumn("[bold]generating[/bold] customer chunks"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("chunks", total=n_chunks(config))
        return generate_world(out, config, overwrite=overwrite,
                              progress=lambda done, _total: bar.update(task, completed=done))
