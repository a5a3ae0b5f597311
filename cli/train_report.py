"""What `train churn|lead` prints: held-out metrics, the candidates and the promotion verdict."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from training.registry import CHALLENGER, Promotion

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


def selection(candidates: dict[str, float], chosen: str) -> None:
    """Every candidate's validation ROC-AUC, the simple baselines among them."""
    table = Table(title="candidates (validation ROC-AUC, mean over the selection folds)")
    table.add_column("candidate")
    table.add_column("ROC-AUC", justify="right")
    for name, auc in candidates.items():
        table.add_row(f"{name} (chosen)" if name == chosen else name, f"{auc:.4f}")
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
