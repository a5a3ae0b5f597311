"""Writing the recommender bundle: all or nothing, never over something that is not a bundle."""

from __future__ import annotations

from pathlib import Path

from features.atomic import staged_dir
from models.bundle import MANIFEST, BundleError, Manifest, write_manifest
from models.recommender.arrays import RANKER_FILE, RecArrays, save_arrays


def check_bundle_target(out_dir: Path) -> None:
    """Refuse to replace anything but a bundle (a directory with manifest.json) or an empty dir.

    Raises:
        BundleError: `out_dir` is a file, or a non-empty directory without manifest.json.
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BundleError(f"{out_dir}: exists and is not a directory; refusing to replace it")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise BundleError(
            f"{out_dir}: exists, is not empty and is not a model bundle (no "
            f"{MANIFEST}); refusing to replace it"
        )


def write_bundle(
    out_dir: Path, arrays: RecArrays, manifest: Manifest, ranker_text: str | None
) -> None:
    """Write arrays, the ranker's text model and the manifest into `out_dir` atomically."""
    check_bundle_target(out_dir)
    with staged_dir(out_dir) as tmp:
        save_arrays(tmp, arrays)
        if ranker_text is not None:
            (tmp / RANKER_FILE).write_text(ranker_text)
        write_manifest(tmp, manifest)
