"""What `train churn|lead|recommender` prints: metrics, the candidates and the promotion verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from models.recommender.scorers import KINDS
from training.registry import CHALLENGER, Promotion

if TYPE_CHECKING:
    from training.recommender.train import TrainResult

console = Console()


def summary(kind: str, metrics: dict[str, float], params: dict[str, Any], run_id: str) -> None:
    """The new scorer's held-out metrics and what the selection chose."""
    table = Table(title=f"{kind} scorer (held-out calibration slice)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("roc_auc", "pr_auc", "log_loss", "brier", "brier_uncalibrated", "lift_top_decile"):
        table.add_row(key, f"{metrics[key]:.4f}")
    console.print(table)
    console.print(
        f"blend weight (LightGBM) {params['blend_weight_lightgbm']:g}, "
        f"{params['rounds']} rounds; chosen on {params['selection']}; MLflow run {run_id}"
    )


def selection(candidates: dict[str, float], chosen: str, searched: dict[str, float]) -> None:
    """Every candidate's validation ROC-AUC, the simple baselines among them; beside it, when
    the candidates were judged on check folds, the plain candidates' AUC on the search folds."""
    judged = "check folds" if searched else "selection folds"
    table = Table(title=f"candidates (validation ROC-AUC, mean over the {judged})")
    table.add_column("candidate")
    table.add_column("ROC-AUC", justify="right")
    if judged == "check folds":
        table.add_column("search folds", justify="right")
    for name, auc in candidates.items():
        row = [f"{name} (chosen)" if name == chosen else name, f"{auc:.4f}"]
        if judged == "check folds":
            row.append(f"{searched[name]:.4f}" if name in searched else "")
        table.add_row(*row)
    console.print(table)


def promotion(version: Any, verdict: Promotion | None) -> None:
    """Which alias the new version got and why."""
    if version is None or verdict is None:
        console.print("not registered (--no-register)")
        return
    console.print(f"registered {version.name} version {version.version} as @{verdict.alias}")
    console.print(f"promotion gate: {verdict.reason}")
    if verdict.alias == CHALLENGER:
        console.print(
            f"@champion stays version {verdict.champion_version}; "
            "--force promotes anyway, `valuechain models promote` later"
        )


def recommender_summary(result: TrainResult, run_id: str, version: Any) -> None:
    """Every candidate's validation metrics (same customers), the skipped ones and the champion."""
    table = Table(title=f"recommender candidates (validation, {result.n_users} customers)")
    for column in ("candidate", "NDCG@10", "recall@10", "coverage"):
        table.add_column(column, justify="left" if column == "candidate" else "right")
    for name in (*KINDS, *(n for n in result.validation if n.endswith("_same_users"))):
        if name in result.validation:
            m = result.validation[name]
            label = f"{name} (champion)" if name == result.champion else name
            table.add_row(label, f"{m['ndcg']:.4f}", f"{m['recall']:.4f}", f"{m['coverage']:.4f}")
    console.print(table)
    for name, why in result.skipped.items():
        console.print(f"{name} skipped: {why}")
    registered = "" if version is not None else ", not registered (--no-register)"
    console.print(
        f"{result.n_items} items; champion: {result.champion}; MLflow run {run_id}{registered}"
    )


def recommender_baselines(result: TrainResult) -> dict[str, float]:
    """The simple baselines' validation NDCG@10 (logged beside the promotion verdict)."""
    return {
        f"val_ndcg_{name}": result.validation[name]["ndcg"]
        for name in ("popularity", "als")
        if name in result.validation
    }
