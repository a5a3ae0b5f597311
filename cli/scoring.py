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

from cli import train_report as report
from cli.app import train_app
from cli.common import fail, parse_as_of, status
from features.atomic import staged_dir
from features.load import DataError
from features.settings import get_settings
from models.bundle import BundleError, hash_files
from training.registry import RegistryError, log_promotion, training_run
from training.scoring import calibrate
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
TRIALS_HELP = (
    "Optuna trials of the LightGBM search (each judged on all selection folds); "
    "0 keeps default LightGBM, logistic regression and their blend."
)
MARGIN_HELP = (
    "Promotion gate: the new version becomes @champion only if its holdout ROC-AUC is at least "
    "the champion's (scored on the same rows) minus this margin; otherwise @challenger."
)
FORCE_HELP = "Make the new version @champion even if it is worse than the current champion."
BANDS_HELP = (
    "Tier thresholds on the calibrated probability, descending, comma-separated: churn "
    "high,medium (default 0.66,0.33); lead A,B,C (default: the top 10%/30%/60% of held-out leads)."
)
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
        config.tier_bands = _bands(kind, options["tier_thresholds"])
        settings = get_settings()
        config.dask_scheduler = options["dask_scheduler"] or settings.dask_scheduler
        with tempfile.TemporaryDirectory() as tmp, training_run(settings, f"train-{kind}") as run:
            with status(f"training {kind} scorer on {len(df)} rows ..."):
                result = train_scorer(df, config, Path(tmp) / "bundle")
                from training.scoring import gate, track  # mlflow.lightgbm is slow to import

                track.log_training(result, config, df)
                version, promotion = None, None
                if not options["no_register"]:
                    promotion = gate.judge(
                        settings,
                        result,
                        df,
                        Path(tmp) / "champion",
                        margin=options["promotion_margin"],
                        force=options["force"],
                    )
                    log_promotion(promotion, gate.baselines(result))
                    version = track.register(settings, result, alias=promotion.alias)
            if options["out_bundle"] is not None:
                _copy_bundle(result.bundle_dir, Path(options["out_bundle"]))
    except _ERRORS as exc:
        raise fail(str(exc)) from exc
    report.summary(kind, result.metrics, result.params, run.info.run_id)
    report.selection(result.candidates, result.params["chosen"], result.searched)
    report.promotion(version, promotion)


def _bands(kind: str, text: str | None) -> tuple[float, ...] | None:
    """--tier-thresholds as floats, checked before training starts."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise ValueError(f"--tier-thresholds {text!r}: comma-separated probabilities") from exc
    names = calibrate.CHURN_TIERS if kind == "churn" else calibrate.LEAD_TIERS
    return tuple(calibrate.check_bands(names, values))


def _copy_bundle(src: Path, dst: Path) -> None:
    """Copy a bundle directory into place atomically (a temp sibling, then rename)."""
    if dst.exists() and any(dst.iterdir()) and not (dst / "manifest.json").is_file():
        raise TableError(f"{dst}: exists and is not a model bundle; refusing to replace it")
    with staged_dir(dst) as staging:
        shutil.copytree(src, staging, dirs_exist_ok=True)


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
    trials: int = typer.Option(20, "--trials", min=0, max=200, help=TRIALS_HELP),
    tier_thresholds: str | None = typer.Option(None, "--tier-thresholds", help=BANDS_HELP),
    promotion_margin: float = typer.Option(0.0, "--promotion-margin", min=0.0, help=MARGIN_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    dask_scheduler: str | None = typer.Option(None, "--dask-scheduler", help=DASK_HELP),
) -> None:
    """Train the churn scorer (probability, 0-100 score, high/medium/low risk, reasons)."""
    # Every parameter is an option of `_train` (by name); the label definition as its value.
    _train("churn", {**locals(), "definition": definition.value})


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
    trials: int = typer.Option(20, "--trials", min=0, max=200, help=TRIALS_HELP),
    tier_thresholds: str | None = typer.Option(None, "--tier-thresholds", help=BANDS_HELP),
    promotion_margin: float = typer.Option(0.0, "--promotion-margin", min=0.0, help=MARGIN_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    dask_scheduler: str | None = typer.Option(None, "--dask-scheduler", help=DASK_HELP),
) -> None:
    """Train the lead scorer (probability, 0-100 score, grade A-D, reasons)."""
    _train("lead", dict(locals()))
