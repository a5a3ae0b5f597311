"""`valuechain train all`: one command, one parent MLflow run, a stage table, a fresh cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.integration.conftest import VALUECHAIN, World

pytestmark = pytest.mark.integration

STAGES = ("train recommender", "train churn", "train lead", "value", "materialize")


def test_every_stage_ran_under_one_parent_run(world: World) -> None:
    for stage in STAGES:
        assert stage in world.retrain_output
    assert "peak RSS MiB" in world.retrain_output
    client = MlflowClient(world.settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(world.settings.mlflow_experiment)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.info.run_name == "train-all"]
    assert len(parents) == 1
    parent = parents[0]
    children = {
        r.info.run_name for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert {"recommender", "train-churn", "train-lead"} <= children
    for stage in STAGES:
        key = stage.replace(" ", "_")
        assert parent.data.metrics[f"stage_{key}_seconds"] > 0
        assert parent.data.metrics[f"stage_{key}_peak_rss_mib"] > 0


def _fails(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VALUECHAIN, *args],
        env=world.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_failing_stage_stops_the_retrain_and_names_it(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _fails(world, "train", "all", "--data", str(empty), "--no-materialize")
    assert result.returncode == 2
    assert "stage `train recommender` failed" in result.stderr
    assert "interactions" in result.stderr  # the stage's own message names what is missing
    assert "FAILED" in result.stderr  # the stage table still closes the output


def test_a_missing_data_directory_is_refused(world: World, tmp_path: Path) -> None:
    result = _fails(world, "train", "all", "--data", str(tmp_path / "nope"))
    assert result.returncode == 2 and "not a directory" in result.stderr
