"""What a training run leaves in MLflow: metrics, plots, the model with signature and example."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.models import get_model_info

from tests.integration.conftest import World

pytestmark = pytest.mark.integration


def _latest_run(client: MlflowClient, world: World, run_name: str) -> str:
    experiment = client.get_experiment_by_name(world.settings.mlflow_experiment)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id],
        f"attributes.run_name = '{run_name}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert runs, f"no MLflow run named {run_name}"
    return str(runs[0].info.run_id)


def _artifacts(client: MlflowClient, run_id: str, path: str = "") -> set[str]:
    found: set[str] = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


@pytest.fixture
def tracking(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MLflow's fluent API at the world's store for this test only."""
    uri = world.settings.mlflow_tracking_uri
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # set_tracking_uri also sets it
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.mark.parametrize("kind", ["churn", "lead"])
def test_scoring_runs_log_metrics_plots_and_a_signed_model(
    world: World, kind: str, tracking: str
) -> None:
    client = MlflowClient(world.settings.mlflow_tracking_uri)
    run_id = _latest_run(client, world, f"train-{kind}")
    metrics = client.get_run(run_id).data.metrics
    for name in ("roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile"):
        assert name in metrics, name
    artifacts = _artifacts(client, run_id)
    for plot in ("roc", "pr", "reliability", "gains", "importance"):
        assert any(p.startswith("plots/") and plot in p for p in artifacts), (plot, artifacts)
    assert "bundle/manifest.json" in artifacts
    # Issue 11: the Optuna search's trials are logged, as a table and as nested child runs.
    assert "search/trials.json" in artifacts and "search/candidates.json" in artifacts
    experiment_id = client.get_run(run_id).info.experiment_id
    trials = client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{run_id}'")
    assert trials and all("val_auc" in t.data.metrics for t in trials)
    assert {t.info.run_name for t in trials} >= {"trial-00"}
    models = client.search_logged_models([client.get_run(run_id).info.experiment_id])
    logged = [m for m in models if m.source_run_id == run_id]
    assert logged, "the full scorer is logged as an MLflow model"
    info = get_model_info(logged[0].model_uri)
    assert info.signature is not None and info.saved_input_example_info is not None


def test_recommender_run_logs_its_validation(world: World) -> None:
    client = MlflowClient(world.settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(world.settings.mlflow_experiment)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], "params.champion != ''")
    assert runs, "the recommender run records its champion"
    metrics = runs[0].data.metrics
    assert any(k.startswith("val_") and "ndcg" in k for k in metrics), metrics


def test_the_logged_scorer_loads_and_scores(world: World, tracking: str) -> None:
    client = MlflowClient(tracking)
    run_id = _latest_run(client, world, "train-churn")
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/scorer")
    example = model.input_example
    out = model.predict(example)
    assert list(out.columns) == ["probability", "score", "tier"] and len(out) == len(example)
    assert out["probability"].between(0, 1).all()
