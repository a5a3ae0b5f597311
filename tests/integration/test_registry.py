"""Registering, promoting and rolling back models in a real (temp) MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.settings import Settings
from models.bundle import Manifest, read_manifest, write_manifest
from models.champions import resolve_bundle
from training import registry

pytestmark = pytest.mark.integration


def _register(settings: Settings, tmp_path: Path, tag: str, alias: str | None = "champion") -> str:
    bundle = tmp_path / f"bundle-{tag}"
    write_manifest(bundle, Manifest(kind="test", details={"tag": tag}))
    with registry.training_run(settings, run_name=f"run-{tag}"):
        return registry.register_bundle(settings, "vc-test", bundle, alias=alias).version


def test_register_resolve_promote_and_roll_back(mlflow_settings: Settings, tmp_path: Path) -> None:
    v1 = _register(mlflow_settings, tmp_path, "one")
    v2 = _register(mlflow_settings, tmp_path, "two")
    v3 = _register(mlflow_settings, tmp_path, "three", alias="challenger")
    uri, cache = mlflow_settings.mlflow_tracking_uri, tmp_path / "cache"

    champion = resolve_bundle(uri, "vc-test", "champion", cache)
    assert champion.version == v2 == "2"
    manifest = read_manifest(champion.path, kind="test")
    assert manifest.details["tag"] == "two" and manifest.mlflow_run_id == champion.run_id
    assert resolve_bundle(uri, "vc-test", "challenger", cache).version == v3

    registry.set_alias(mlflow_settings, "vc-test", v3)  # promote the challenger
    assert resolve_bundle(uri, "vc-test", "champion", cache).version == v3
    assert registry.rollback(mlflow_settings, "vc-test") == v2
    assert registry.rollback(mlflow_settings, "vc-test") == v1
    with pytest.raises(registry.RegistryError, match="no earlier champion"):
        registry.rollback(mlflow_settings, "vc-test")

    listed = registry.list_versions(mlflow_settings, "vc-test")
    assert [v.version for v in listed] == ["3", "2", "1"]
    assert "champion" in listed[2].aliases and "challenger" in listed[0].aliases


def test_errors_name_what_is_missing(mlflow_settings: Settings, tmp_path: Path) -> None:
    _register(mlflow_settings, tmp_path, "one")
    with pytest.raises(registry.RegistryError, match="no version 9"):
        registry.set_alias(mlflow_settings, "vc-test", "9")
    with pytest.raises(registry.RegistryError, match="no registered model"):
        registry.list_versions(mlflow_settings, "nope")
    bundle = tmp_path / "b"
    write_manifest(bundle, Manifest(kind="test"))
    with pytest.raises(registry.RegistryError, match="inside training_run"):
        registry.register_bundle(mlflow_settings, "vc-test", bundle)
