"""Champions: resolve `models:/<name>@<alias>` in the MLflow registry and load it, typed by role.

The one place that knows how a registered model becomes an object in memory. Serving (with hot
swap), materialize and batch scoring all go through `load_champion`; `LoadedModel[T]` keeps the
model's type, so every model call is checked by mypy.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from features.settings import Settings
from models.recommender.model import RecommenderModel
from models.scoring.scorer import TabularScorer

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ChampionError(Exception):
    """A registered model version cannot be found or downloaded."""


@dataclass(frozen=True)
class ResolvedBundle:
    """A registered version's bundle on local disk."""

    name: str
    version: str
    run_id: str | None
    path: Path


@dataclass(frozen=True)
class Role(Generic[T]):
    """A model role: its registered name in the settings and how its bundle loads."""

    key: str
    loader: Callable[[Path], T]
    command: str  # the CLI command that trains it, for error messages

    def registered_name(self, settings: Settings) -> str:
        """The MLflow registered-model name configured for this role."""
        name: str = getattr(settings, f"{self.key}_model")
        return name


# `kind` guards against a lead bundle registered under the churn name (and vice versa).
RECOMMENDER: Role[RecommenderModel] = Role(
    "recommender", RecommenderModel.load, "train recommender"
)
CHURN: Role[TabularScorer] = Role("churn", partial(TabularScorer.load, kind="churn"), "train churn")
LEAD: Role[TabularScorer] = Role("lead", partial(TabularScorer.load, kind="lead"), "train lead")
ROLES: tuple[Role[Any], ...] = (RECOMMENDER, CHURN, LEAD)


@dataclass(frozen=True)
class LoadedModel(Generic[T]):
    """One champion in memory: registry name, version, run id and the runtime object."""

    name: str
    version: str
    run_id: str | None
    model: T


@dataclass
class ModelSet:
    """The models a process serves, by role, and why any of them is missing."""

    recommender: LoadedModel[RecommenderModel] | None = None
    churn: LoadedModel[TabularScorer] | None = None
    lead: LoadedModel[TabularScorer] | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, role: Role[T]) -> LoadedModel[T] | None:
        """The loaded model of `role`, typed by the role."""
        loaded: LoadedModel[T] | None = getattr(self, role.key)
        return loaded

    def versions(self) -> dict[str, str | None]:
        """Registry version of each role's model (None when not loaded)."""
        return {r.key: (m.version if (m := self.get(r)) else None) for r in ROLES}


def resolve_bundle(
    tracking_uri: str, name: str, alias: str, cache_dir: Path, version: str | None = None
) -> ResolvedBundle:
    """Find `name@alias` (or an explicit `version`) and download its bundle once into `cache_dir`.

    Downloads go to a temporary directory renamed into place, so concurrent workers are safe.
    """
    mv = _model_version(tracking_uri, name, alias, version)
    # The run id is part of the key: a reset registry can reuse version numbers.
    target = cache_dir / name / f"{mv.version}-{mv.run_id or 'norun'}"
    if not (target / "manifest.json").is_file():
        _download(tracking_uri, str(mv.source), target)
    return ResolvedBundle(name, str(mv.version), mv.run_id, target)


def load_champion(
    settings: Settings,
    role: Role[T],
    *,
    version: str | None = None,
    current: LoadedModel[T] | None = None,
) -> LoadedModel[T]:
    """Resolve and load `role`'s model at the settings' alias (or `version`).

    `current` is reused when the registry still points at the same version and run.
    """
    name = role.registered_name(settings)
    bundle = resolve_bundle(
        settings.mlflow_tracking_uri,
        name,
        settings.model_alias,
        settings.state_dir / "models",
        version,
    )
    if current is not None and (current.version, current.run_id) == (bundle.version, bundle.run_id):
        return current
    model = role.loader(bundle.path)
    logger.info("loaded %s version %s", name, bundle.version)
    return LoadedModel(name, bundle.version, bundle.run_id, model)


def load_models(settings: Settings, current: ModelSet | None = None) -> ModelSet:
    """Load each role's champion; a role that fails keeps `current`'s model and logs why."""
    result = ModelSet()
    for role in ROLES:
        old = current.get(role) if current else None
        try:
            setattr(result, role.key, load_champion(settings, role, current=old))
        except Exception as exc:
            # Clients see the kind of failure only; the log has the details (URIs, paths).
            name = role.registered_name(settings)
            result.errors[role.key] = f"{name}@{settings.model_alias}: {type(exc).__name__}"
            logger.warning("cannot load %s@%s: %s", name, settings.model_alias, exc)
            setattr(result, role.key, old)
    return result


def _model_version(tracking_uri: str, name: str, alias: str, version: str | None) -> ModelVersion:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri, tracking_uri)
    try:
        if version is None:
            return client.get_model_version_by_alias(name, alias)
        return client.get_model_version(name, version)
    except MlflowException as exc:
        which = f"version {version}" if version else f"alias @{alias}"
        raise ChampionError(f"model {name!r} has no {which} in {tracking_uri}") from exc


def _download(tracking_uri: str, source: str, target: Path) -> None:
    import mlflow.artifacts

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=source, dst_path=str(tmp), tracking_uri=tracking_uri
        )
        try:
            os.rename(local, target)
        except OSError:
            if not (target / "manifest.json").is_file():  # another worker won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
