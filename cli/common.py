"""Helpers shared by the command modules: settings, errors as clean exits, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
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


# The display of a multi-stage command (`train all`); bars and spinners of its stages join it,
# because rich allows one live display at a time.
_shared: Progress | None = None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def shared_progress() -> Iterator[Progress]:
    """One progress display for several commands run in this process."""
    global _shared
    with _progress() as progress:
        _shared = progress
        try:
            yield progress
        finally:
            _shared = None


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar (a line of the shared display when there is one); yields
    `update(done, total)`."""
    with nullcontext(_shared) if _shared is not None else _progress() as progress:
        task = progress.add_task(description, total=None)
        last = [0, 0]

        def update(done: int, total: int) -> None:
            last[:] = [done, total]
            progress.update(task, completed=done, total=total)

        yield update
        # A finished step stops pulsing in a shared display that lives on.
        progress.update(task, completed=max(last), total=max(last) or 1)


@contextmanager
def status(description: str) -> Iterator[None]:
    """A spinner while a step without measurable progress runs."""
    if _shared is None:
        with console.status(description):
            yield
        return
    task = _shared.add_task(description, total=None)
    yield
    _shared.update(task, total=1, completed=1)


def champion(role: Role[T], version: str | None = None) -> LoadedModel[T]:
    """Load `role`'s registered champion (or `version`), or exit with a message saying why."""
    settings = get_settings()
    try:
        return load_champion(settings, role, version=version)
    except (ChampionError, BundleError) as exc:
        raise fail(f"{exc}. Train one with `valuechain {role.command}`.") from exc
