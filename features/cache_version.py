"""One cache version, all or nothing: write it, describe it, commit it (or abort it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from features.store import OnlineStore


def write_version(
    store: OnlineStore, write: Callable[[str], tuple[int, int, dict[str, Any]]]
) -> tuple[str, tuple[int, int], dict[str, Any]]:
    """Run `write(version)` into a new version and commit it; abort it on any failure.

    `write` returns (customers written, customers ranked, the version's metadata); this returns
    the committed version, those counts and that metadata.
    """
    version = store.begin_version()
    try:
        written, ranked, meta = write(version)
        meta = {**meta, "version": version}  # readers pair meta and id from one read
        store.write_meta(version, meta)
    except BaseException:
        store.abort_version(version)
        raise
    store.commit_version(version)
    return version, (written, ranked), meta


def version_meta(
    as_of: str | None,
    written: int,
    ranked: int,
    model_versions: dict[str, str | None] | None,
    features: list[str],
) -> dict[str, Any]:
    """A version's metadata. `features` is the feature set every cached customer holds: the
    service compares it with the churn champion's features before scoring from the cache."""
    return {
        "as_of": as_of,
        "customers": written,
        "at_risk_ranked": ranked,
        "materialized_at": datetime.now(UTC).isoformat(),
        "models": model_versions or {},
        "features": [str(f) for f in features],
    }
