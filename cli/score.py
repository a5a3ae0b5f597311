"""`valuechain score churn|lead`: batch-score a table with a registered (or local) scorer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console

from cli.app import score_app
from cli.common import champion, fail
from features.load import DataError, write_frame
from models.bundle import BundleError
from models.champions import CHURN, LEAD
from models.scoring.scorer import TabularScorer
from training.scoring.table import TableError, read_table, require_columns

console = Console()
_ERRORS = (DataError, TableError, BundleError, ValueError, KeyError, OSError)


def _score(
    kind: str, table: Path, out: Path, model_version: str | None, bundle: Path | None
) -> None:
    try:
        if bundle is None:
            scorer = champion(CHURN if kind == "churn" else LEAD, model_version).model
        else:
            scorer = TabularScorer.load(bundle, kind)
        df = read_table(table)
        frame = score_table(scorer, df, str(table))
        write_scores(frame, out)
    except _ERRORS as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"scored {len(frame)} rows of {table} -> {out} "
        f"(tiers: {frame['tier'].value_counts().to_dict()})"
    )


def score_table(scorer: TabularScorer, df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Columns id, probability, score, tier; id is the bundle's id column or the row number."""
    require_columns(df, source, scorer.id_col)
    present = [f for f in scorer.feature_names if f in df.columns]
    if not present:
        raise TableError(
            f"{source}: none of the model's features is a column "
            f"(expected e.g. {', '.join(scorer.feature_names[:5])})"
        )
    absent = sorted(set(scorer.feature_names) - set(present))
    if absent:
        console.print(f"[yellow]warning:[/] {source}: columns {absent} absent; scored as missing")
    scores = scorer.score_frame(df)
    ids = df[scorer.id_col].to_numpy() if scorer.id_col else range(len(df))
    return pd.DataFrame(
        {
            "id": ids,
            "probability": scores["probability"].to_numpy(),
            "score": scores["score"].to_numpy(),
            "tier": scores["tier"].to_numpy(),
        }
    )


def write_scores(frame: pd.DataFrame, out: Path) -> None:
    """Write CSV (or Parquet by suffix) through a temp file and rename: never half-written."""
    write_frame(frame, out)


SCORE_TABLE_HELP = "Table to score (CSV or Parquet) with the model's feature columns."
OUT_HELP = "Output file (CSV, or Parquet by suffix): id,probability,score,tier."
VERSION_HELP = "Registered model version to use (default: the @champion alias)."
BUNDLE_HELP = "Score with this local bundle directory instead of the registry."


@score_app.command("churn")
def score_churn(
    table: Path = typer.Option(..., "--table", help=SCORE_TABLE_HELP),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    model_version: str | None = typer.Option(None, "--model-version", help=VERSION_HELP),
    bundle: Path | None = typer.Option(None, "--bundle", help=BUNDLE_HELP),
) -> None:
    """Score churn risk of every row with the registered champion: id,probability,score,tier."""
    _score("churn", table, out, model_version, bundle)


@score_app.command("lead")
def score_lead(
    table: Path = typer.Option(..., "--table", help=SCORE_TABLE_HELP),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    model_version: str | None = typer.Option(None, "--model-version", help=VERSION_HELP),
    bundle: Path | None = typer.Option(None, "--bundle", help=BUNDLE_HELP),
) -> None:
    """Score leads with the registered champion: id,probability,score,grade (A-D)."""
    _score("lead", table, out, model_version, bundle)
