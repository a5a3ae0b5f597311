"""MLflow tracking and registry: runs, bundle registration, aliases, promotion and rollback.

Bundles are logged as the run artifact `bundle/` and registered as a model version whose
source is that artifact directory. Serving resolves `models:/<name>@champion`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.settings import Settings
from models.bundle import read_manifest, write_manifest

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
_HISTORY_TAG = "valuechain.champion_history"


class RegistryError(Exception):
    """A model, version or alias does not exist or cannot be changed."""


@dataclass(frozen=True)
class RegisteredVersion:
    """A model version in the registry."""

    name: str
    version: str
    run_id: str | None
    aliases: tuple[str, ...] = ()


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured store and make sure the experiment exists."""
    if settings.mlflow_tracking_uri.startswith("sqlite:///"):
        Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    if client.get_experiment_by_name(settings.mlflow_experiment) is None:
        client.create_experiment(
            settings.mlflow_experiment, artifact_location=settings.artifact_root()
        )
    mlflow.set_experiment(settings.mlflow_experiment)
    return client


@contextmanager
def training_run(
    settings: Settings, run_name: str, tags: dict[str, str] | None = None
) -> Iterator[mlflow.ActiveRun]:
    """Start an MLflow run in the valuechain experiment; log params/metrics/plots inside it.

    Inside another run (`valuechain train all`) the new run is nested under it.
    """
    configure(settings)
    nested = mlflow.active_run() is not None
    with mlflow.start_run(run_name=run_name, tags=tags, nested=nested) as run:
        yield run


def register_bundle(
    settings: Settings,
    model_name: str,
    bundle_dir: Path,
    *,
    alias: str | None = CHAMPION,
    description: str | None = None,
) -> RegisteredVersion:
    """Log `bundle_dir` to the active run and register it; point `alias` at the new version.

    Must be called inside `training_run`. The run id is written into the bundle's manifest
    before logging, so a loaded bundle knows where it came from.
    """
    run = mlflow.active_run()
    if run is None:
        raise RegistryError("register_bundle must be called inside training_run()")
    manifest = read_manifest(bundle_dir)
    manifest.mlflow_run_id = run.info.run_id
    write_manifest(bundle_dir, manifest)
    mlflow.log_artifacts(str(bundle_dir), artifact_path="bundle")
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    try:
        client.get_registered_model(model_name)
    except MlflowException:
        client.create_registered_model(model_name, description=description)
    source = f"{run.info.artifact_uri}/bundle"
    mv = client.create_model_version(model_name, source=source, run_id=run.info.run_id)
    logger.info("registered %s version %s from run %s", model_name, mv.version, run.info.run_id)
    if alias:
        set_alias(settings, model_name, str(mv.version), alias)
    aliases = (alias,) if alias else ()
    return RegisteredVersion(model_name, str(mv.version), run.info.run_id, aliases)


def set_alias(settings: Settings, model_name: str, version: str, alias: str = CHAMPION) -> None:
    """Point `alias` at `version`; champion moves are recorded so they can be rolled back."""
    client = configure(settings)
    try:
        client.get_model_version(model_name, version)
    except MlflowException as exc:
        raise RegistryError(f"{model_name} has no version {version}") from exc
    client.set_registered_model_alias(model_name, alias, version)
    if alias == CHAMPION:
        history = _champion_history(client, model_name)
        if not history or history[-1] != version:
            history.append(version)
        client.set_registered_model_tag(model_name, _HISTORY_TAG, ",".join(history[-50:]))


def rollback(settings: Settings, model_name: str) -> str:
    """Move `champion` back to the version that held it before; return that version."""
    client = configure(settings)
    history = _champion_history(client, model_name)
    if len(history) < 2:
        raise RegistryError(f"{model_name} has no earlier champion to roll back to")
    history.pop()
    previous = history[-1]
    client.set_registered_model_alias(model_name, CHAMPION, previous)
    client.set_registered_model_tag(model_name, _HISTORY_TAG, ",".join(history))
    return previous


def list_versions(settings: Settings, model_name: str) -> list[RegisteredVersion]:
    """All versions of a model, newest first, with their aliases."""
    client = configure(settings)
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as exc:
        raise RegistryError(f"no registered model named {model_name!r}") from exc
    by_version: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name='{model_name}'")
    return sorted(
        (
            RegisteredVersion(
                model_name,
                str(v.version),
                v.run_id,
                tuple(sorted(by_version.get(str(v.version), []))),
            )
            for v in versions
        ),
        key=lambda v: int(v.version),
        reverse=True,
    )


def _champion_history(client: MlflowClient, model_name: str) -> list[str]:
    tags = client.get_registered_model(model_name).tags or {}
    raw = tags.get(_HISTORY_TAG, "")
    return [v for v in raw.split(",") if v]


@dataclass(frozen=True)
class Promotion:
    """The promotion gate's verdict on a new version: the alias it gets and why.

    Any model kind can use it: the caller measures the new model and the current champion on
    the same validation data with a higher-is-better metric and passes both here.
    """

    alias: str  # CHAMPION or CHALLENGER
    metric: str
    new: float
    champion: float | None
    champion_version: str | None
    margin: float
    forced: bool
    reason: str


def current_champion(settings: Settings, model_name: str) -> str | None:
    """The version `model_name@champion` points at, or None when there is none yet."""
    client = configure(settings)
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def decide_promotion(
    metric: str,
    new: float,
    champion: float | None,
    champion_version: str | None,
    *,
    margin: float = 0.0,
    force: bool = False,
) -> Promotion:
    """Champion if `new >= champion - margin` (or forced, or there is no comparable champion).

    Args:
        metric: Name of the higher-is-better metric both values are.
        new: The new model's metric on the validation data.
        champion: The current champion's metric on the same data; None when there is no
            champion or it cannot be scored on this data.
        champion_version: The current champion's version, if any.
        margin: How much worse than the champion the new model may be and still take over.
        force: Promote whatever the metrics say.
    """
    if champion_version is None:
        alias, reason = CHAMPION, "first model"
    elif champion is None:
        alias, reason = CHAMPION, f"champion version {champion_version} cannot score this data"
    else:
        compare = f"{metric} {new:.4f} vs champion version {champion_version} {champion:.4f}"
        if new >= champion - margin:
            alias, reason = CHAMPION, f"{compare}: no worse than the champion (margin {margin:g})"
        elif force:
            alias, reason = CHAMPION, f"{compare}: worse, promoted by --force"
        else:
            alias, reason = CHALLENGER, f"{compare}: worse by more than the margin {margin:g}"
    return Promotion(alias, metric, new, champion, champion_version, margin, force, reason)


def log_promotion(promotion: Promotion, baselines: dict[str, float] | None = None) -> None:
    """Record the verdict in the active MLflow run: tags, metrics and `promotion.json`."""
    mlflow.set_tags(
        {
            "promotion.alias": promotion.alias,
            "promotion.reason": promotion.reason,
            "promotion.champion_version": promotion.champion_version or "",
        }
    )
    values = {"promotion.new": promotion.new, "promotion.margin": promotion.margin}
    if promotion.champion is not None:
        values["promotion.champion"] = promotion.champion
    values.update({f"baseline.{_metric_key(k)}": v for k, v in (baselines or {}).items()})
    mlflow.log_metrics(values)
    mlflow.log_dict({**asdict(promotion), "baselines": baselines or {}}, "promotion.json")


def _metric_key(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name.lower())
