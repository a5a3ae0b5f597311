"""`valuechain generate`: write a synthetic CRM world (customers, items, interactions, leads,
tickets) to a directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.common import fail, progress_bar
from training.synth import SynthError, WorldConfig, generate_world
from training.synth.config import DEFAULT_DAYS, DEFAULT_END
from training.synth.runner import check_target


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to create (absent or empty).")],
    customers: Annotated[int, typer.Option(help="Number of customers (>= 1).")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed and arguments, same files.")],
    items: Annotated[
        int | None,
        typer.Option(help="Catalogue size; default customers // 20 clamped to [200, 50000]."),
    ] = None,
    days: Annotated[
        int, typer.Option(help="Length of the simulated window in days.")
    ] = DEFAULT_DAYS,
    end: Annotated[
        str,
        typer.Option(help="End of the window (exclusive), YYYY-MM-DD; also the suggested as_of."),
    ] = DEFAULT_END.isoformat(),
    fmt: Annotated[str, typer.Option("--format", help="File format: parquet or csv.")] = "parquet",
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
) -> None:
    """Generate a synthetic shop with learnable structure (taste, tiers, complements, churn)."""
    try:
        end_date = datetime.strptime(end, "%Y-%m-%d").date()
    except ValueError:
        raise fail(f"--end must be YYYY-MM-DD, got {end!r}") from None
    config = WorldConfig(
        customers=customers,
        seed=seed,
        items=items,
        days=days,
        end=end_date,
        fmt=fmt,  # type: ignore[arg-type]  # validated below
    )
    try:
        config.validate()
        check_target(out, overwrite=overwrite)
        summary = _run(out, config, overwrite)
    except SynthError as exc:
        raise fail(str(exc)) from None
    rows = ", ".join(f"{name} {count:,}" for name, count in summary["rows"].items())
    print(f"wrote {out}: {rows}; as_of {summary['as_of']}")


def _run(out: Path, config: WorldConfig, overwrite: bool) -> dict:
    with progress_bar("generating customer chunks") as update:
        return generate_world(out, config, overwrite=overwrite, progress=update)
