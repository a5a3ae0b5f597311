"""The one settings object: safe defaults, environment overrides, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from features.settings import PROJECT_ROOT, Settings


def test_defaults_use_a_sqlite_store_under_mlruns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(_env_file=None)
    assert settings.mlflow_tracking_uri == f"sqlite:///{PROJECT_ROOT / 'mlruns' / 'mlflow.db'}"
    assert settings.artifact_root() == (PROJECT_ROOT / "mlruns" / "artifacts").as_uri()
    assert settings.model_alias == "champion"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://example:6380/2")
    monkeypatch.setenv("KEY_PREFIX", "shop1")
    settings = Settings(_env_file=None)
    assert settings.redis_url == "redis://example:6380/2" and settings.key_prefix == "shop1"


# Braces guard the Redis Cluster layout: a prefix "{x}" would put every key in one slot.
@pytest.mark.parametrize("prefix", ["", "a:b", "has space", "{x}", "a}"])
def test_unsafe_key_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="key_prefix"):
        Settings(_env_file=None, key_prefix=prefix)


def test_a_cluster_without_a_node_to_start_from_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValidationError, match="REDIS_CLUSTER=true needs REDIS_URL"):
        Settings(_env_file=None, redis_cluster=True)
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.5:6379")
    assert Settings(_env_file=None).redis_cluster
