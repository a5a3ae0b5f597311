"""Promote and roll back: the service follows the champion alias without a restart, and a
corrupt champion does not replace a working one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.settings import Settings
from models.champions import load_models, resolve_bundle
from service.main import create_app
from tests.integration.conftest import World, run_cli
from training import registry

pytestmark = pytest.mark.integration


def test_alias_moves_are_picked_up_and_unchanged_models_are_reused(
    world: World, tmp_path: Path
) -> None:
    settings = Settings(mlflow_tracking_uri=world.settings.mlflow_tracking_uri)
    name = settings.churn_model
    before = load_models(world.settings)
    current = resolve_bundle(settings.mlflow_tracking_uri, name, "champion", tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(current.path, copy)
    with registry.training_run(settings, run_name="re-register"):
        new = registry.register_bundle(settings, name, copy, alias="challenger")

    run_cli(world.env, "models", "promote", name, new.version)
    after = load_models(world.settings, before)
    assert after.versions()["churn"] == new.version
    assert after.recommender is before.recommender  # unchanged: not reloaded

    run_cli(world.env, "models", "rollback", name)
    rolled = load_models(world.settings, after)
    assert rolled.versions()["churn"] == current.version
    listing = run_cli(world.env, "models", "list").stdout
    assert f"{name}\tv{new.version}\tchallenger" in listing


def test_a_corrupt_champion_keeps_the_previous_one_serving_and_shows_in_readyz(
    world: World, tmp_path: Path
) -> None:
    settings = Settings(mlflow_tracking_uri=world.settings.mlflow_tracking_uri)
    name = settings.lead_model
    current = resolve_bundle(settings.mlflow_tracking_uri, name, "champion", tmp_path / "dl")
    corrupt = tmp_path / "corrupt"
    shutil.copytree(current.path, corrupt)
    for path in corrupt.iterdir():
        if path.is_file() and path.name != "manifest.json":
            path.write_text("not a model")
    with registry.training_run(settings, run_name="corrupt"):
        bad = registry.register_bundle(settings, name, corrupt, alias="challenger")
    app_settings = world.settings.model_copy(update={"state_dir": tmp_path / "state"})
    lead = {"source": "web", "industry": "retail", "company_size": 10}
    with TestClient(create_app(app_settings), headers=world.headers("admin")) as client:
        serving = client.get("/readyz").json()["models"]["lead"]
        run_cli(world.env, "models", "promote", name, bad.version)
        try:
            reloaded = client.post("/v1/admin/models/reload")
            assert reloaded.status_code == 200 and reloaded.json()["models"]["lead"] == serving
            ready = client.get("/readyz").json()
            assert ready["models"]["lead"] == serving and "lead" in ready["errors"]
            scored = client.post("/v1/leads/score", json=lead)
            assert scored.status_code == 200 and scored.json()["model_version"] == serving
            assert f'valuechain_model_version{{name="{name}",role="lead"}} {float(serving)}' in (
                client.get("/metrics").text
            )
        finally:
            run_cli(world.env, "models", "rollback", name)
