"""The promotion gate through `valuechain train churn --table` with a real temp MLflow store.

Guards the bug where every retrain became @champion, however much worse it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from cli.app import app
from features.settings import get_settings
from tests.integration.conftest import mlflow_runner
from tests.unit.training.test_scoring import make_table

pytestmark = pytest.mark.integration


@pytest.fixture()
def runner(tmp_path: Path) -> Iterator[CliRunner]:
    with mlflow_runner(tmp_path, "cli.scoring") as cli:
        yield cli


def _train(runner: CliRunner, table: Path, *extra: str) -> str:
    args = ["train", "churn", "--table", str(table), "--label", "churned", "--id", "customer_id"]
    result = runner.invoke(app, [*args, "--trials", "2", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _aliases(tmp_path: Path) -> dict[str, str]:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    model = MlflowClient(uri, uri).get_registered_model(get_settings().churn_model)
    return {alias: str(version) for alias, version in model.aliases.items()}


def _last_run_promotion(
    tmp_path: Path,
) -> tuple[dict[str, str], dict[str, float], dict[str, object]]:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name(get_settings().mlflow_experiment)
    assert experiment is not None
    run = client.search_runs(
        [experiment.experiment_id],
        "attributes.run_name = 'train-churn'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )[0]
    local = client.download_artifacts(run.info.run_id, "promotion.json", str(tmp_path))
    return run.data.tags, run.data.metrics, json.loads(Path(local).read_text())


def test_worse_retrain_stays_challenger_until_forced(runner: CliRunner, tmp_path: Path) -> None:
    table = make_table(1500, seed=7)
    good, shuffled = tmp_path / "good.csv", tmp_path / "shuffled.csv"
    table.to_csv(good, index=False)
    rng = np.random.default_rng(0)
    table.assign(churned=rng.permutation(table["churned"].to_numpy())).to_csv(shuffled, index=False)

    first = _train(runner, good)
    assert "as @champion" in first and "first model" in first
    assert _aliases(tmp_path) == {"champion": "1"}

    worse = _train(runner, shuffled)
    assert "version 2 as @challenger" in worse
    assert "@champion stays version 1" in worse
    assert _aliases(tmp_path) == {"champion": "1", "challenger": "2"}
    tags, metrics, verdict = _last_run_promotion(tmp_path)
    assert tags["promotion.alias"] == "challenger"
    assert metrics["promotion.champion"] > metrics["promotion.new"]
    assert verdict["champion_version"] == "1"
    assert set(verdict["baselines"]) == {"default LightGBM", "logistic regression"}  # type: ignore[arg-type]
    assert "baseline.default_lightgbm" in metrics

    forced = _train(runner, shuffled, "--force")
    assert "version 3 as @champion" in forced and "--force" in forced
    assert _aliases(tmp_path)["champion"] == "3"


def test_margin_lets_a_slightly_worse_retrain_through(runner: CliRunner, tmp_path: Path) -> None:
    table = make_table(1500, seed=8)
    good, shuffled = tmp_path / "good.csv", tmp_path / "shuffled.csv"
    table.to_csv(good, index=False)
    rng = np.random.default_rng(1)
    table.assign(churned=rng.permutation(table["churned"].to_numpy())).to_csv(shuffled, index=False)
    _train(runner, good)
    # Shuffled labels score about 0.5 on the holdout; a margin of 1 admits anything.
    output = _train(runner, shuffled, "--promotion-margin", "1")
    assert "version 2 as @champion" in output
    assert _aliases(tmp_path)["champion"] == "2"
