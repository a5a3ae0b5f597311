"""Resolve `models:/<name>@<alias>` in the MLflow registry; fetch its bundle into a local cache."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ResolvedBundle:
    """A registered version's bundle on local disk."""

    name: str
    version: str
    run_id: str | None
    path: Path


def resolve_bundle(tracking_uri: str, name: str, alias: str, cache_dir: Path,
                   version: str | None = None) -> ResolvedBundle:
    """Find `name@alias` (or an explicit `version`) and download its bundle once into `cache_dir`.

    Downloads go to a temporary directory renamed into place, so concurrent workers are safe.
    """
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri, tracking_uri)
    if version is None:
        mv = client.get_model_version_by_alias(name, alias)
    else:
        mv = client.get_model_version(name, version)
    # The run id is part of the key: a reset registry can reuse version numbers.
    target = cache_dir / name / f"{mv.version}-{mv.run_id or 'norun'}"
    if not (target / "manifest.json").is_file():
        _download(tracking_uri, str(mv.source), target)
    return ResolvedBundle(name, str(mv.version), mv.run_id, target)


def _download(tracking_uri: str, source: str, target: Path) -> None:
    import mlflow.artifacts

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(tmp),
                                                    tracking_uri=tracking_uri)
        try:
            os.rename(local, target)
        except OSError:
            if not (target / "manifest.json").is_file():  # another worker won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
