"""`valuechain train all`: the nightly retrain (recommender, churn, lead, value table, materialize).

Each stage is the stage's own command, run in this process with the same arguments a user would
type, so `train all` can never drift from the per-model commands. In MLflow the stages' runs are
nested under one parent run, which also gets each stage's seconds and peak memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import click
import psutil
import typer
from rich.table import Table

from cli.app import app, train_app
from cli.common import console, fail, shared_progress
from features.settings import get_settings
from training.registry import training_run

MIB = 1024 * 1024


@dataclass
class StageResult:
    """How one stage went: wall seconds, peak resident memory of the process, exit status."""

    name: str
    seconds: float
    peak_rss_mib: float
    ok: bool


class PeakRss:
    """Samples this process's resident memory in a thread; `peak` is the largest seen."""

    def __init__(self, interval: float = 0.05) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def stages(data: Path, value_out: Path, as_of: str | None, materialize: bool) -> list[list[str]]:
    """The command lines of the retrain, in order (each is `valuechain ARGS`)."""
    when = ["--as-of", as_of] if as_of else []
    lines = [
        ["train", "recommender", "--data", str(data), *when],
        ["train", "churn", "--data", str(data), *when],
        ["train", "lead", "--data", str(data), *when],
        ["value", "--data", str(data), "--out", str(value_out), *when],
    ]
    if materialize:
        lines.append(["materialize", "--data", str(data), "--value", str(value_out), *when])
    return lines


@contextmanager
def _measured(name: str, results: list[StageResult]) -> Iterator[None]:
    start = time.perf_counter()
    ok = False
    with PeakRss() as rss:
        try:
            yield
            ok = True
        finally:
            seconds = time.perf_counter() - start
            results.append(StageResult(name, seconds, rss.peak / MIB, ok))


class StageFailed(Exception):
    """A stage stopped; it has printed why."""


def _run_stage(args: list[str]) -> None:
    command = typer.main.get_command(app)
    try:
        # Without standalone mode click returns a stage's exit code instead of exiting.
        code = command.main(args=args, prog_name="valuechain", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        raise StageFailed from exc
    except Exception as exc:  # a bug in a stage: keep the trace, still close with the table
        console.print_exception()
        raise StageFailed from exc
    if code:  # the stage printed why it stopped
        raise StageFailed


def _report(results: list[StageResult]) -> Table:
    table = Table(title="train all")
    for column in ("stage", "seconds", "peak RSS MiB", "status"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for r in results:
        table.add_row(
            r.name, f"{r.seconds:.1f}", f"{r.peak_rss_mib:,.0f}", "ok" if r.ok else "FAILED"
        )
    total = sum(r.seconds for r in results)
    peak = max((r.peak_rss_mib for r in results), default=0.0)
    table.add_row("total", f"{total:.1f}", f"{peak:,.0f}", "", style="bold")
    return table


@train_app.command("all")
def train_all(
    data: Annotated[
        Path, typer.Option(help="Data directory: customers, items, interactions, leads, tickets.")
    ],
    as_of: Annotated[
        str | None, typer.Option(help="Cut-off for every stage (default: each stage's own).")
    ] = None,
    value_out: Annotated[
        Path | None, typer.Option(help="Where the value table goes [DATA/value.parquet].")
    ] = None,
    materialize: Annotated[
        bool, typer.Option(help="Finish by writing a new cache version to Redis.")
    ] = True,
    report: Annotated[
        Path | None,
        typer.Option(help="Also write the stage table as JSON here (for monitoring, benchmarks)."),
    ] = None,
) -> None:
    """Retrain everything on DATA: recommender, churn, lead, value table, then materialize.

    One MLflow parent run holds each model's run; a table of seconds and peak memory per stage
    closes the output. Stops at the first stage that fails (exit 2), keeping what earlier stages
    registered.
    """
    if not data.is_dir():
        raise fail(f"--data {data}: not a directory")
    lines = stages(data, value_out or data / "value.parquet", as_of, materialize)
    results: list[StageResult] = []
    try:
        with training_run(get_settings(), "train-all") as parent, shared_progress() as progress:
            overall = progress.add_task("train all", total=len(lines))
            for args in lines:
                name = " ".join(args[: 2 if args[0] == "train" else 1])
                progress.update(overall, description=f"train all: {name}")
                with _measured(name, results):
                    _run_stage(args)
                progress.advance(overall)
            _log_stages(results)
    except StageFailed:
        _finish(results, report)
        raise fail(f"stage `{results[-1].name}` failed; see its message above") from None
    _finish(results, report)
    console.print(f"MLflow parent run {parent.info.run_id}")


def _finish(results: list[StageResult], report: Path | None) -> None:
    console.print(_report(results))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps([asdict(r) for r in results], indent=2))


def _log_stages(results: list[StageResult]) -> None:
    import mlflow

    metrics = {}
    for r in results:
        key = r.name.replace(" ", "_")
        metrics[f"stage_{key}_seconds"] = r.seconds
        metrics[f"stage_{key}_peak_rss_mib"] = r.peak_rss_mib
    metrics["total_seconds"] = sum(r.seconds for r in results)
    mlflow.log_metrics(metrics)
