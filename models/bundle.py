"""Model bundles: a directory of pickle-free files plus a `manifest.json`.

Every trained model is saved as a bundle; MLflow stores it as the run artifact `bundle/`
and the registry's model version points at it. The service loads bundles through
`models` only, never through training code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BundleError(Exception):
    """A bundle is missing, of another kind, or of an unsupported format version."""


@dataclass
class Manifest:
    """What a bundle is: its kind, format, provenance and free-form details."""

    kind: str
    format_version: int = FORMAT_VERSION
    trained_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    mlflow_run_id: str | None = None
    data_hash: str | None = None
    as_of: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def write_manifest(bundle_dir: Path, manifest: Manifest) -> Path:
    """Write `manifest.json` into `bundle_dir` (created if needed)."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    path = bundle_dir / MANIFEST
    path.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True, default=str))
    return path


def read_manifest(bundle_dir: Path, kind: str | None = None) -> Manifest:
    """Read and check a bundle's manifest; `kind` guards against loading the wrong model."""
    path = bundle_dir / MANIFEST
    if not path.is_file():
        raise BundleError(f"{bundle_dir}: no {MANIFEST}; not a valuechain model bundle")
    raw = json.loads(path.read_text())
    manifest = Manifest(**raw)
    if manifest.format_version > FORMAT_VERSION:
        raise BundleError(
            f"{path}: format_version {manifest.format_version} is newer than this code "
            f"supports ({FORMAT_VERSION})"
        )
    if kind is not None and manifest.kind != kind:
        raise BundleError(f"{path}: bundle kind is {manifest.kind!r}, expected {kind!r}")
    return manifest


def hash_files(*paths: Path) -> str:
    """A short content hash of input files, recorded as the bundle's `data_hash`."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]
