"""The recommender's promotion gate and a non-ALS champion served over real HTTP.

Guards two bugs of issue 11: every recommender retrain became @champion however much worse it
was, and only ALS or the ranker could ever be served.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from cli.app import app
from features.settings import Settings
from service.main import create_app
from tests.integration.conftest import World, mlflow_runner, run_cli, served
from tests.unit.training.test_recommender import planted_world

pytestmark = pytest.mark.integration
# The registered name, without building settings outside the runner's environment.
NAME = str(Settings.model_fields["recommender_model"].default)


@pytest.fixture()
def runner(tmp_path: Path) -> Iterator[CliRunner]:
    with mlflow_runner(tmp_path, "cli.recommender") as cli:
        yield cli


def _train(runner: CliRunner, data: Path, *extra: str) -> str:
    args = ["train", "recommender", "--data", str(data), "--factors", "16", "--threads", "1"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _client(tmp_path: Path) -> MlflowClient:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    return MlflowClient(uri, uri)


def test_worse_recommender_retrain_leaves_the_champion_in_place(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    interactions, items, customers = planted_world(150, seed=4)
    interactions.to_csv(data / "interactions.csv", index=False)
    items.to_csv(data / "items.csv", index=False)
    customers.to_csv(data / "customers.csv", index=False)
    name = NAME

    first = _train(runner, data)
    assert "version 1 as @champion" in first and "first model" in first
    # Popularity alone serves clearly worse lists for these taste clusters.
    worse = _train(runner, data, "--candidates", "popularity", "--no-ranker")
    assert "version 2 as @challenger" in worse and "@champion stays version 1" in worse
    model = _client(tmp_path).get_registered_model(name)
    assert {a: str(v) for a, v in model.aliases.items()} == {"champion": "1", "challenger": "2"}
    run = _client(tmp_path).get_model_version(name, "2").run_id
    assert run is not None
    tags = _client(tmp_path).get_run(run).data.tags
    assert tags["promotion.alias"] == "challenger"
    verdict = json.loads(
        Path(_client(tmp_path).download_artifacts(run, "promotion.json", str(tmp_path))).read_text()
    )
    assert verdict["champion"] > verdict["new"] and verdict["champion_version"] == "1"
    assert "val_ndcg_popularity" in verdict["baselines"]

    forced = _train(runner, data, "--candidates", "popularity", "--no-ranker", "--force")
    assert "version 3 as @champion" in forced and "--force" in forced
    assert str(_client(tmp_path).get_registered_model(name).aliases["champion"]) == "3"


def test_an_item_knn_champion_is_served_over_http(world: World, tmp_path: Path) -> None:
    name = NAME
    trained = run_cli(
        world.env,
        "train",
        "recommender",
        "--data",
        world.data,
        "--candidates",
        "item_knn",
        "--no-ranker",
        "--trials",
        "1",
        "--force",
    )
    assert "as @champion" in trained.stdout and "champion: item_knn" in trained.stdout
    try:
        settings = world.settings.model_copy(update={"state_dir": tmp_path / "state"})
        with served(create_app(settings), world.headers("admin")) as client:
            probe = f"knn-probe-{uuid.uuid4().hex[:8]}"
            events = pd.read_parquet(world.data / "interactions.parquet")
            buys = events.loc[events["event_type"] == "purchase", "item_id"].value_counts()
            bought = [str(i) for i in buys.index[:3]]
            posted = client.post(
                "/v1/events",
                json={
                    "events": [
                        {"customer_id": probe, "item_id": i, "event_type": "purchase"}
                        for i in bought
                    ]
                },
            )
            assert posted.status_code == 202, posted.text
            resp = client.get(f"/v1/customers/{probe}/recommendations", params={"k": 5})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            sources = {item["source"] for item in body["items"]}
            assert "item_knn" in sources and sources <= {"item_knn", "popular"}
            assert not set(bought) & {item["item_id"] for item in body["items"]}
            assert all(item["reason"] for item in body["items"])
            champion = _champion_version(world, name)
            assert body["model_version"] == champion
    finally:
        run_cli(world.env, "models", "rollback", name)


def _champion_version(world: World, name: str) -> str:
    uri = world.env["MLFLOW_TRACKING_URI"]
    return str(MlflowClient(uri, uri).get_registered_model(name).aliases["champion"])
