"""Helpers shared by the command modules: settings, errors as clean exits, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from features.settings import get_settings
from models.bundle import BundleError
from models.champions import ChampionError, LoadedModel, Role, load_champion

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    """Parse an --as-of option (YYYY-MM-DD or ISO timestamp)."""
    if value is None:
        return None
    try:
        return pd.Timestamp(datetime.fromisoformat(value))
    except ValueError as exc:
        raise fail(f"--as-of {value!r} is not a date (use YYYY-MM-DD)") from exc


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields `update(done, total)`."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def champion(role: Role[T], version: str | None = None) -> LoadedModel[T]:
    """Load `role`'s registered champion (or `version`), or exit with a message saying why."""
    settings = get_settings()
    try:
        return load_champion(settings, role, version=version)
    except (ChampionError, BundleError) as exc:
        raise fail(f"{exc}. Train one with `valuechain {role.command}`.") from exc
