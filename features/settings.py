"""The one settings object, read from the environment (prefix-free names, `.env` optional)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_tracking_uri() -> str:
    """SQLite MLflow store under the project's `mlruns/` (MLflow 3 deprecates the file store)."""
    return f"sqlite:///{PROJECT_ROOT / 'mlruns' / 'mlflow.db'}"


class Settings(BaseSettings):
    """Configuration shared by the CLI, the training jobs and the service."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    redis_url: str | None = Field(
        default=None,
        description="Redis to use; unset starts an embedded redis-server for this process.",
    )
    redis_cluster: bool = Field(
        default=False,
        description="REDIS_URL is one node of a Redis Cluster: use redis-py's cluster client, "
        "which finds the other nodes itself (keys are hash-tagged for it; see docs/data.md).",
    )
    mlflow_tracking_uri: str = Field(default_factory=default_tracking_uri)
    mlflow_artifact_root: str | None = Field(
        default=None,
        description="Artifact location for new experiments; default: next to a SQLite store.",
    )
    mlflow_experiment: str = "valuechain"
    state_dir: Path = Field(
        default=PROJECT_ROOT / "var", description="Embedded Redis data and the local model cache."
    )
    key_prefix: str = Field(default="vc", description="Prefix of every Redis key.")
    recommender_model: str = "valuechain-recommender"
    churn_model: str = "valuechain-churn"
    lead_model: str = "valuechain-lead"
    model_alias: str = "champion"
    dask_scheduler: str | None = Field(
        default=None,
        description="Dask scheduler (tcp://host:8786) that `train churn|lead` refit LightGBM on.",
    )
    explain_max: int = Field(
        default=50_000,
        ge=0,
        description="Customers whose churn reasons `materialize` computes ahead (active ones by "
        "risk first); the API scores the others' reasons per request. 0: none.",
    )
    event_ttl_days: int = Field(default=30, ge=1)
    max_recent_events: int = Field(default=50, ge=1, le=1000)
    log_format: Literal["json", "text"] = Field(
        default="json", description="Log line format of the CLI and the service."
    )
    log_level: str = Field(default="INFO", description="Level of valuechain's own logs.")

    @field_validator("key_prefix")
    @classmethod
    def _prefix_is_simple(cls, value: str) -> str:
        # Braces would become the Redis Cluster hash tag of every key (features/redis_keys.py).
        if not value or any(c in value for c in ": {}"):
            raise ValueError("key_prefix must be non-empty, without ':', spaces or braces")
        return value

    @model_validator(mode="after")
    def _cluster_has_a_node(self) -> Settings:
        if self.redis_cluster and not self.redis_url:
            raise ValueError("REDIS_CLUSTER=true needs REDIS_URL: one node of the cluster")
        return self

    def artifact_root(self) -> str | None:
        """Where experiments store artifacts: explicit, else beside a SQLite DB file."""
        if self.mlflow_artifact_root:
            return self.mlflow_artifact_root
        if self.mlflow_tracking_uri.startswith("sqlite:///"):
            db = Path(self.mlflow_tracking_uri.removeprefix("sqlite:///"))
            return (db.parent / "artifacts").resolve().as_uri()
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
