"""`valuechain clv fit` (BG/NBD + Gamma-Gamma on a transactions file) and `valuechain value`
(the per-customer value table)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import mlflow
import pandas as pd
import typer

from cli.app import app, clv_app
from cli.common import console, fail, parse_as_of, status
from features.load import DataError, read_frame
from features.settings import PROJECT_ROOT, get_settings
from training.registry import training_run
from training.value import fit_clv, summarize_transactions
from training.value.job import ValueConfig, value_table_from_dir, write_table
from training.value.tags import TagConfigError, load_tags

logger = logging.getLogger(__name__)
DEFAULT_TAGS = PROJECT_ROOT / "config" / "tags.yaml"


def read_transactions(
    path: Path, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    """Read a CSV/Parquet transactions file; errors name the file, column and row."""
    raw = read_frame(path)
    for col in (customer_col, date_col, amount_col):
        if col not in raw.columns:
            raise DataError(path, f"missing column; found {list(raw.columns)}", column=col)
    frame = raw[[customer_col, date_col, amount_col]].copy()
    for col, parsed in (
        (date_col, _dates(frame[date_col])),
        (amount_col, pd.to_numeric(frame[amount_col], errors="coerce")),
    ):
        bad = (parsed.isna() | (parsed < 0 if col == amount_col else False)).to_numpy(bool)
        if bad.any():
            row = int(bad.argmax())
            raise DataError(
                path,
                f"{frame[col].iloc[row]!r} is not a valid "
                f"{'date' if col == date_col else 'non-negative amount'}",
                column=col,
                row=row + 1,
            )
        frame[col] = parsed
    if frame[customer_col].isna().any():
        row = int(frame[customer_col].isna().to_numpy(bool).argmax()) + 1
        raise DataError(path, "empty customer id", column=customer_col, row=row)
    return frame


def _dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    parsed = pd.to_datetime(values.astype("string"), errors="coerce", format="mixed", utc=True)
    return parsed.dt.tz_localize(None)


@clv_app.command("fit")
def clv_fit(
    transactions: Annotated[Path, typer.Option(help="Transactions file (.csv or .parquet).")],
    customer_col: Annotated[str, typer.Option(help="Column with the customer id.")],
    date_col: Annotated[str, typer.Option(help="Column with the purchase date/time.")],
    amount_col: Annotated[str, typer.Option(help="Column with the purchase amount.")],
    calibration_end: Annotated[
        str | None,
        typer.Option(
            help="End of the calibration period (YYYY-MM-DD, inclusive); default: last date."
        ),
    ] = None,
    time_unit: Annotated[
        str, typer.Option(help="Time unit of recency and T: day or week.")
    ] = "day",
    out: Annotated[
        Path | None, typer.Option(help="Also write the parameters to this JSON.")
    ] = None,
    log_mlflow: Annotated[
        bool, typer.Option(help="Log params and log-likelihoods to MLflow.")
    ] = True,
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI; default: the configured one.")
    ] = None,
) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma by maximum likelihood; print the parameters as JSON."""
    if time_unit not in ("day", "week"):
        raise fail(f"--time-unit must be day or week, got {time_unit!r}")
    end = parse_as_of(calibration_end)  # day resolution: the whole end day is included
    try:
        frame = read_transactions(transactions, customer_col, date_col, amount_col)
        with status("fitting BG/NBD and Gamma-Gamma"):
            summary = summarize_transactions(
                frame,
                customer_col,
                date_col,
                amount_col,
                end,
                time_unit,  # type: ignore[arg-type]  # checked above
            )
            result = fit_clv(summary, time_unit).to_dict()
    except (DataError, ValueError) as exc:
        raise fail(str(exc)) from exc
    result["calibration_end"] = str((end or summary["last_purchase"].max()).date())
    if out is not None:
        out.write_text(json.dumps(result, indent=2, sort_keys=True))
    if log_mlflow:
        _log_fit(result, transactions, tracking_uri)
    print(json.dumps(result, indent=2, sort_keys=True))
    return result


def _log_fit(result: dict[str, Any], source: Path, tracking_uri: str | None) -> None:
    settings = get_settings()
    if tracking_uri:
        settings = settings.model_copy(update={"mlflow_tracking_uri": tracking_uri})
    numeric = {
        k: float(v)
        for k, v in result.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    with training_run(settings, "clv-fit") as run:
        mlflow.log_params(
            {
                "source": str(source),
                "time_unit": result["time_unit"],
                "calibration_end": result["calibration_end"],
            }
        )
        mlflow.log_metrics(numeric)
        mlflow.log_dict(result, "clv_params.json")
        logger.info("logged CLV fit to MLflow run %s", run.info.run_id)


@app.command("value")
def value(
    data: Annotated[
        Path,
        typer.Option(
            help="Directory with customers, interactions (and items) as .csv or .parquet."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output table: .parquet or .csv (tags joined by |).")],
    as_of: Annotated[
        str | None,
        typer.Option(help="Cut-off (YYYY-MM-DD or ISO time); default: the last interaction."),
    ] = None,
    horizon_months: Annotated[int, typer.Option(min=1, help="CLV horizon in months.")] = 12,
    monthly_discount: Annotated[
        float, typer.Option(min=0.0, help="CLV discount rate per month.")
    ] = 0.01,
    referral_share: Annotated[
        float,
        typer.Option(min=0.0, help="Share of referred customers' value credited to the referrer."),
    ] = 0.1,
    tags: Annotated[
        Path | None, typer.Option(help="Weighted tags YAML; default: config/tags.yaml.")
    ] = None,
) -> None:
    """Write the per-customer value table: history, CLV, P(alive), RFM, tier, tags."""
    config = ValueConfig(
        horizon_months=horizon_months,
        monthly_discount=monthly_discount,
        referral_share=referral_share,
    )
    try:
        tag_list = load_tags(tags or DEFAULT_TAGS)
        with status("computing the value table"):
            result = value_table_from_dir(data, parse_as_of(as_of), config=config, tags=tag_list)
        write_table(result.table, out)
    except (DataError, TagConfigError, ValueError) as exc:
        raise fail(str(exc)) from exc
    table = result.table
    if result.model is None:
        console.print("[yellow]warning:[/] CLV models could not be fitted; predicted columns empty")
    tiers = table["value_tier"].value_counts().to_dict()
    print(
        f"wrote {out}: {len(table):,} customers as of {result.as_of}; tiers "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(tiers.items()))
    )
