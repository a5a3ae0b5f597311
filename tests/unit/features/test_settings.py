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


@pytest.mark.parametrize("prefix", ["", "a:b", "has space"])
def test_unsafe_key_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="key_prefix"):
        Settings(_env_file=None, key_prefix=prefix)
