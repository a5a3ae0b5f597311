"""`valuechain materialize`: write features, model state and the churn ranking to the cache.

Three sources: the built-in world (`--data DIR`), your own churn feature table (`--table FILE
--id COL`, the table `train churn --table` took) and/or your interactions file (`--interactions
FILE`, the customers `train recommender --interactions` learned). Each run writes one new cache
version, made current only when complete.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from cli.app import app
from cli.common import champion, console, fail, parse_as_of, progress_bar
from features.load import DataError, load_world, read_frame
from features.materialize import FeatureGap
from features.settings import get_settings
from models.bundle import BundleError
from models.champions import CHURN, LEAD, RECOMMENDER, ChampionError, load_champion
from models.scoring.scorer import TabularScorer

DATA_HELP = "Built-in world directory: customers, interactions, items, tickets (.parquet/.csv)."
TABLE_HELP = (
    "Your churn feature table (CSV/Parquet), shaped like the one `train churn --table` took; "
    "the label column may be absent. Its columns become the cached features."
)
ID_HELP = "Customer id column of --table (default: the churn champion's --id)."
INTERACTIONS_HELP = (
    "Your interactions file (needs customer_id): its customers get the recommender champion's "
    "state (for `train recommender --interactions` without customers/items files)."
)
WITHOUT_HELP = (
    "Write features only, when no churn/recommender champion exists yet "
    "(no recommender state, no at-risk ranking)."
)


@app.command()
def materialize(
    data: Annotated[Path | None, typer.Option("--data", help=DATA_HELP)] = None,
    table: Annotated[Path | None, typer.Option("--table", help=TABLE_HELP)] = None,
    id_col: Annotated[str | None, typer.Option("--id", help=ID_HELP)] = None,
    interactions: Annotated[
        Path | None, typer.Option("--interactions", help=INTERACTIONS_HELP)
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Feature cut-off with --data (default: last event).")
    ] = None,
    value: Annotated[
        Path | None, typer.Option(help="Value table from `valuechain value` (with --data).")
    ] = None,
    without_models: Annotated[bool, typer.Option("--without-models", help=WITHOUT_HELP)] = False,
) -> None:
    """Write customer features, recommender state, the churn ranking and feature drift (PSI, also
    logged to MLflow) to Redis as a new cache version.

    A churn champion whose features the data lacks is refused: it would score every customer
    on unknown features. The churn reasons of up to EXPLAIN_MAX customers (default 50,000; all
    when they fit, else the riskiest active ones) are computed here, so the API reads them
    instead of computing them per request.
    """
    if (data is None) == (table is None and interactions is None):
        raise fail("give --data DIR, or --table FILE [--id COL] and/or --interactions FILE")
    try:
        if data is not None:
            report, versions = _world(data, as_of, value, without_models)
        else:
            report, versions = _own(table, id_col, interactions, without_models)
    except (DataError, FeatureGap) as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"materialized {report.customers:,} customers as of {report.as_of or 'unknown'} "
        f"(cache version {report.version}; {report.at_risk_ranked:,} ranked by churn risk; "
        f"models {versions})"
    )


def _world(data: Path, as_of: str | None, value: Path | None, without_models: bool) -> Any:
    from features.connect import open_store
    from features.materialize import materialize as run

    settings = get_settings()
    cutoff = parse_as_of(as_of)
    tables = load_world(data)
    value_table = _value_table(value) if value else None
    models: dict[str, Any] = {}
    versions: dict[str, str | None] = {}
    if not without_models:
        _load(models, versions, recommender=True, churn=True)
        _load_lead(models, versions)
    with open_store(settings, settings.state_dir) as store, progress_bar("materializing") as update:
        report = run(
            store,
            tables,
            cutoff,
            recommender=models.get("recommender"),
            churn=models.get("churn"),
            lead=models.get("lead"),
            value_table=value_table,
            model_versions=versions,
            progress=update,
            explain_max=settings.explain_max,
        )
    _log_drift(report.drift, versions, report.version)
    return report, versions


def _own(
    table: Path | None, id_col: str | None, interactions: Path | None, without_models: bool
) -> Any:
    from features.connect import open_store
    from features.materialize_table import materialize_own

    models: dict[str, Any] = {}
    versions: dict[str, str | None] = {}
    if not without_models:
        _load(models, versions, recommender=interactions is not None, churn=table is not None)
    elif table is None:
        raise DataError(
            str(interactions), "--interactions writes recommender state; drop --without-models"
        )
    churn: TabularScorer | None = models.get("churn")
    feats, as_of = _table_features(table, id_col, churn) if table else (None, None)
    ids = _interaction_customers(interactions) if interactions else []
    rec = models.get("recommender")
    if as_of is None and rec is not None and rec.as_of_ts is not None:
        as_of = datetime.fromtimestamp(rec.as_of_ts, UTC).isoformat()
    settings = get_settings()
    with open_store(settings, settings.state_dir) as store, progress_bar("materializing") as update:
        report = materialize_own(
            store,
            feats,
            ids,
            source=str(table or interactions),
            recommender=models.get("recommender"),
            churn=churn,
            as_of=as_of,
            model_versions=versions,
            progress=update,
            explain_max=settings.explain_max,
        )
    return report, versions


def _load(
    models: dict[str, Any], versions: dict[str, str | None], *, recommender: bool, churn: bool
) -> None:
    """Load the champions needed into `models` / `versions` (or exit saying which is missing)."""
    if recommender:
        rec = champion(RECOMMENDER)
        models["recommender"], versions["recommender"] = rec.model, rec.version
    if churn:
        scorer = champion(CHURN)
        models["churn"], versions["churn"] = scorer.model, scorer.version


def _load_lead(models: dict[str, Any], versions: dict[str, str | None]) -> None:
    """The lead champion only feeds drift here: without one, materialize anyway and say so."""
    try:
        lead = load_champion(get_settings(), LEAD)
    except (ChampionError, BundleError) as exc:
        console.print(f"[yellow]note:[/] no lead drift ({exc})")
    else:
        models["lead"], versions["lead"] = lead.model, lead.version


def _log_drift(drift: dict[str, Any], versions: dict[str, str | None], cache: str) -> None:
    """Show the worst features and log a drift run to MLflow; a logging failure only warns."""
    for role, entry in drift.items():
        worst = sorted(entry["psi"].items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{name} {value:.3f}" for name, value in worst)
        console.print(f"{role} drift (PSI vs training, highest): {shown}")
    if not drift:
        return
    from training.monitoring import log_drift

    try:
        log_drift(get_settings(), drift, versions, cache)
    except Exception as exc:  # the cache is committed; drift logging must not fail the command
        console.print(f"[yellow]warning:[/] drift not logged to MLflow: {exc}")


def _table_features(
    path: Path, id_col: str | None, churn: TabularScorer | None
) -> tuple[pd.DataFrame, str | None]:
    """The table's features by customer id (latest snapshot each) and its as-of, if dated."""
    from features.materialize_table import latest_rows, table_features

    details = churn.manifest.details if churn is not None else {}
    id_col = id_col or details.get("id_col")
    if not id_col:
        raise DataError(path, "--id COLUMN is required (the churn champion has no id column)")
    frame = read_frame(path)
    time_col = details.get("time_col")
    frame = latest_rows(frame, id_col, time_col)
    feats = table_features(frame, path, id_col, drop=[details.get("label_col"), time_col])
    as_of = None
    if time_col and time_col in frame.columns:
        as_of = str(pd.to_datetime(frame[time_col], errors="coerce").max().isoformat())
    return feats, as_of


def _interaction_customers(path: Path) -> list[str]:
    frame = read_frame(path)
    if "customer_id" not in frame.columns:
        raise DataError(
            path, f"no customer_id column; found {list(frame.columns)}", column="customer_id"
        )
    ids = frame["customer_id"].dropna()
    if pd.api.types.is_float_dtype(ids.dtype):
        ids = ids.astype("Int64")
    return ids.astype("string").str.strip().drop_duplicates().tolist()


def _value_table(path: Path) -> Any:
    frame = read_frame(path)
    if "customer_id" not in frame.columns:
        raise DataError(path, "missing required column", column="customer_id")
    if "tags" in frame.columns and frame["tags"].dtype != object:
        # CSV value tables join the tag list with "|".
        frame["tags"] = (
            frame["tags"]
            .fillna("")
            .astype(str)
            .str.split("|")
            .map(lambda tags: [t for t in tags if t])
        )
    return frame.set_index(frame["customer_id"].astype(str)).drop(columns=["customer_id"])
