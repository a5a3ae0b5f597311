"""Log a recommender training run to MLflow: params, validation metrics, searches, a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from training.recommender.evaluate import plot_comparison

if TYPE_CHECKING:
    from training.recommender.train import TrainResult


def log_to_mlflow(result: TrainResult, work_dir: Path) -> None:
    """Log params, validation metrics, the search and a comparison plot to the active run."""
    import mlflow

    mlflow.log_params({f"als_{k}": v for k, v in result.als.as_dict().items()})
    mlflow.log_params(
        {
            "champion": result.champion,
            "n_users": result.n_users,
            "n_items": result.n_items,
            "n_interactions": result.n_interactions,
        }
    )
    mlflow.log_metrics(result.flat_metrics())
    for step, trial in enumerate(result.trials):
        mlflow.log_metrics(
            {f"search_{k}": float(v) for k, v in trial.items() if k.startswith("val_")}, step=step
        )
    if result.ease is not None:
        mlflow.log_params({f"ease_{k}": v for k, v in result.ease.as_dict().items()})
    for step, trial in enumerate(result.ease_trials):
        mlflow.log_metric("search_ease_ndcg", float(trial["val_ndcg"]), step=step)
    for name, trials in (("als_search", result.trials), ("ease_search", result.ease_trials)):
        search = work_dir / f"{name}.json"
        search.write_text(json.dumps(trials, indent=2))
        mlflow.log_artifact(str(search))
    mlflow.log_artifact(str(plot_comparison(result.validation, work_dir / "validation.png")))
