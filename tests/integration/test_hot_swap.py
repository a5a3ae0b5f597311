"""Promote and roll back: the service's model set follows the champion alias without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from features.settings import Settings
from models.champions import load_models, resolve_bundle
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
