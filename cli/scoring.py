"""`valuechain train churn|lead`: train a tabular scorer on your own table or the built-in world.

Bring your own data: `--table FILE --label COLUMN [--id COLUMN] [--time-col COLUMN]`; every
other numeric, boolean or text column is a feature. Built-in world data: `--data DIR`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cli.app import train_app
from cli.common import fail, parse_as_of
from features.atomic import staged_dir
from features.load import DataError
from features.settings import get_settings
from models.bundle import BundleError, hash_files
from training.registry import RegistryError, training_run
from training.scoring.distributed import DaskUnavailable
from training.scoring.table import TableError, read_table, require_columns
from training.scoring.train import TrainConfig, train_scorer

console = Console()


class ChurnLabel(StrEnum):
    """How the built-in world's churn label is defined (see features.tables.churn_labels)."""

    no_purchase = "no-purchase"
    cancellation = "cancellation"
    either = "either"


WORLD_COLUMNS = {
    "churn": ("churned", "customer_id", "snapshot"),
    "lead": ("converted", "lead_id", "created_at"),
}
_ERRORS = (
    DataError,
    TableError,
    BundleError,
    RegistryError,
    DaskUnavailable,
    ValueError,
    KeyError,
    OSError,
)

TABLE_HELP = "Your training table (CSV or Parquet): one row per entity (and snapshot)."
LABEL_HELP = "Label column of --table: 0/1, true/false or yes/no."
ID_HELP = "Id column of --table (kept out of the features, written by `score`)."
TIME_HELP = "Time column of --table: split train < validation < calibration by it."
DATA_HELP = "Built-in world data directory (instead of --table)."
ASOF_HELP = "Labels must close by this date (default: the last event in --data)."
NOREG_HELP = "Log to MLflow but do not register the model (no champion change)."
BUNDLE_OUT_HELP = "Also copy the trained bundle to this directory."
TEXT_HELP = 'JSON file of reason templates, e.g. {"recency_days": "idle {value:.0f} days"}.'
TRIALS_HELP = "Number of LightGBM configurations searched on the validation slice."
DASK_HELP = (
    "Dask scheduler address (tcp://host:8786): refit the final LightGBM on that cluster through "
    "lightgbm.dask [env DASK_SCHEDULER; default: train here]. Needs the `dask` extra."
)


def _load_training(
    kind: str,
    table: Path | None,
    label: str | None,
    id_col: str | None,
    time_col: str | None,
    data: Path | None,
    as_of: str | None,
    horizon_days: int,
    definition: str = "either",
) -> tuple[pd.DataFrame, TrainConfig]:
    """The training frame and its column roles, from --table or --data."""
    if (table is None) == (data is None):
        raise TableError("give exactly one of --table FILE or --data DIR")
    if table is not None:
        if not label:
            raise TableError(f"{table}: --label COLUMN is required with --table")
        df = read_table(table)
        require_columns(df, str(table), label, id_col, time_col)
        return df, TrainConfig(
            kind, label, id_col, time_col, source=str(table), data_hash=hash_files(Path(table))
        )
    from features import tables  # the world tables pull in the full feature code

    stamp = parse_as_of(as_of)
    if kind == "churn":
        df, text = tables.churn_table(Path(str(data)), stamp, horizon_days, definition=definition)  # type: ignore[arg-type]
    else:
        df, text = tables.lead_table(Path(str(data)), stamp, horizon_days)
    label_col, id_name, time_name = WORLD_COLUMNS[kind]
    files = sorted(
        p
        for p in Path(str(data)).iterdir()
        if p.suffix in (".csv", ".parquet", ".pq") and p.is_file()
    )
    return df, TrainConfig(
        kind,
        label_col,
        id_name,
        time_name,
        feature_text=text,
        source=str(data),
        data_hash=hash_files(*files),
    )


def _train(kind: str, options: dict[str, Any]) -> None:
    try:
        df, config = _load_training(
            kind,
            options["table"],
            options["label"],
            options["id_col"],
            options["time_col"],
            options["data"],
            options["as_of"],
            options["horizon_days"],
            options.get("definition", "either"),
        )
        if options["feature_text"] is not None:
            config.feature_text.update(json.loads(Path(options["feature_text"]).read_text()))
        config.n_trials = options["trials"]
        settings = get_settings()
        config.dask_scheduler = options["dask_scheduler"] or settings.dask_scheduler
        with tempfile.TemporaryDirectory() as tmp, training_run(settings, f"train-{kind}") as run:
            with console.status(f"training {kind} scorer on {len(df)} rows ..."):
                result = train_scorer(df, config, Path(tmp) / "bundle")
                from training.scoring import track  # mlflow.lightgbm is slow to import

                track.log_training(result, config, df)
                version = None if options["no_register"] else track.register(settings, result)
            if options["out_bundle"] is not None:
                _copy_bundle(result.bundle_dir, Path(options["out_bundle"]))
    except _ERRORS as exc:
        raise fail(str(exc)) from exc
    _print_summary(kind, result.metrics, result.params, run.info.run_id, version)


def _copy_bundle(src: Path, dst: Path) -> None:
    """Copy a bundle directory into place atomically (a temp sibling, then rename)."""
    if dst.exists() and any(dst.iterdir()) and not (dst / "manifest.json").is_file():
        raise TableError(f"{dst}: exists and is not a model bundle; refusing to replace it")
    with staged_dir(dst) as staging:
        shutil.copytree(src, staging, dirs_exist_ok=True)


def _print_summary(
    kind: str, metrics: dict[str, float], params: dict[str, Any], run_id: str, version: Any
) -> None:
    table = Table(title=f"{kind} scorer (held-out calibration slice)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "brier_uncalibrated",
        "lift_top_decile",
        "val_auc_chosen",
    ):
        table.add_row(key, f"{metrics[key]:.4f}")
    console.print(table)
    console.print(
        f"blend weight (LightGBM) {params['blend_weight_lightgbm']}, "
        f"{params['rounds']} rounds; MLflow run {run_id}"
    )
    if params.get("dask_workers"):
        console.print(f"final LightGBM fitted on {params['dask_workers']} Dask workers")
    if version is not None:
        console.print(f"registered {version.name} version {version.version} as @champion")
    else:
        console.print("not registered (--no-register)")


def _train_options(
    table: Path | None,
    label: str | None,
    id_col: str | None,
    time_col: str | None,
    data: Path | None,
    as_of: str | None,
    horizon_days: int,
    no_register: bool,
    out_bundle: Path | None,
    feature_text: Path | None,
    trials: int,
    dask_scheduler: str | None,
) -> dict[str, Any]:
    return dict(locals())


@train_app.command("churn")
def train_churn(
    table: Path | None = typer.Option(None, "--table", help=TABLE_HELP),
    label: str | None = typer.Option(None, "--label", help=LABEL_HELP),
    id_col: str | None = typer.Option(None, "--id", help=ID_HELP),
    time_col: str | None = typer.Option(None, "--time-col", help=TIME_HELP),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=ASOF_HELP),
    horizon_days: int = typer.Option(
        60, "--horizon-days", min=1, help="Churn window after each snapshot, days (--data)."
    ),
    definition: ChurnLabel = typer.Option(
        ChurnLabel.either,
        "--churn-definition",
        help="With --data: churn = no purchase in the window, an explicit cancellation in it "
        "(customers.cancelled_at), or either.",
    ),
    no_register: bool = typer.Option(False, "--no-register", help=NOREG_HELP),
    out_bundle: Path | None = typer.Option(None, "--out-bundle", help=BUNDLE_OUT_HELP),
    feature_text: Path | None = typer.Option(None, "--feature-text", help=TEXT_HELP),
    trials: int = typer.Option(8, "--trials", min=1, max=64, help=TRIALS_HELP),
    dask_scheduler: str | None = typer.Option(None, "--dask-scheduler", help=DASK_HELP),
) -> None:
    """Train the churn scorer (probability, 0-100 score, high/medium/low risk, reasons)."""
    options = _train_options(
        table,
        label,
        id_col,
        time_col,
        data,
        as_of,
        horizon_days,
        no_register,
        out_bundle,
        feature_text,
        trials,
        dask_scheduler,
    )
    _train("churn", {**options, "definition": definition.value})


@train_app.command("lead")
def train_lead(
    table: Path | None = typer.Option(None, "--table", help=TABLE_HELP),
    label: str | None = typer.Option(None, "--label", help=LABEL_HELP),
    id_col: str | None = typer.Option(None, "--id", help=ID_HELP),
    time_col: str | None = typer.Option(None, "--time-col", help=TIME_HELP),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=ASOF_HELP),
    horizon_days: int = typer.Option(
        90, "--horizon-days", min=1, help="Converted within this many days of creation (--data)."
    ),
    no_register: bool = typer.Option(False, "--no-register", help=NOREG_HELP),
    out_bundle: Path | None = typer.Option(None, "--out-bundle", help=BUNDLE_OUT_HELP),
    feature_text: Path | None = typer.Option(None, "--feature-text", help=TEXT_HELP),
    trials: int = typer.Option(8, "--trials", min=1, max=64, help=TRIALS_HELP),
    dask_scheduler: str | None = typer.Option(None, "--dask-scheduler", help=DASK_HELP),
) -> None:
    """Train the lead scorer (probability, 0-100 score, grade A-D, reasons)."""
    _train(
        "lead",
        _train_options(
            table,
            label,
            id_col,
            time_col,
            data,
            as_of,
            horizon_days,
            no_register,
            out_bundle,
            feature_text,
            trials,
            dask_scheduler,
        ),
    )
