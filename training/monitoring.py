"""Drift in MLflow: one run per model per materialization, with each feature's PSI as a metric.

`materialize` computes the population stability index of every churn and lead feature against
the training distributions in the champion's bundle (`models.scoring.drift`); these runs make
the trend comparable across nights in the MLflow UI (`psi_max` per run, `psi.<feature>`).
"""

from __future__ import annotations

import re
from typing import Any

from features.settings import Settings
from training.registry import training_run


def log_drift(
    settings: Settings,
    drift: dict[str, dict[str, Any]],
    versions: dict[str, str | None],
    cache_version: str,
) -> list[str]:
    """Log one `drift-<role>` run per entry of `drift` (a cache meta's `drift`); run ids."""
    run_ids = []
    for role, entry in drift.items():
        tags = {"valuechain.role": role, "valuechain.cache_version": cache_version}
        with training_run(settings, f"drift-{role}", tags=tags) as run:
            import mlflow

            mlflow.log_params({"model_version": versions.get(role), "rows": entry["rows"]})
            psi = {f"psi.{_metric_name(k)}": float(v) for k, v in entry["psi"].items()}
            mlflow.log_metrics({**psi, "psi_max": max(entry["psi"].values())})
            run_ids.append(run.info.run_id)
    return run_ids


def _metric_name(feature: str) -> str:
    # MLflow metric names allow letters, digits, _ - . / and spaces only.
    return re.sub(r"[^\w\-./ ]", "_", feature)
