"""The Typer applications that the command modules attach their commands to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="valuechain",
    help="valuechain: recommendations, churn and lead scores, customer value - train and serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(
    help="Train a model, log it to MLflow and register it.", no_args_is_help=True
)
score_app = typer.Typer(help="Batch-score a table with a registered model.", no_args_is_help=True)
models_app = typer.Typer(
    help="List, promote and roll back registered models (MLflow aliases).", no_args_is_help=True
)
clv_app = typer.Typer(
    help="Customer lifetime value models (BG/NBD + Gamma-Gamma).", no_args_is_help=True
)
export_app = typer.Typer(
    help="Bulk files for CRM import (CSV or Parquet) from the champions and the feature cache.",
    no_args_is_help=True,
)

app.add_typer(train_app, name="train")
app.add_typer(score_app, name="score")
app.add_typer(models_app, name="models")
app.add_typer(clv_app, name="clv")
app.add_typer(export_app, name="export")
