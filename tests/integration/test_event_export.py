"""Durable events: every accepted event reaches Parquet exactly once, through exporter crashes.

The exporter runs as a real subprocess (`valuechain events export`) against real Redis; its hidden
`--crash-at` hook SIGKILLs it right after reading a batch (nothing written, nothing acked) or
right after writing one (written, not acked).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from fastapi.testclient import TestClient

from features.api_keys import ApiKeyStore, KeyRole
from features.load import load_interactions, load_table
from features.redis_keys import KeyLayout
from models.champions import ModelSet
from service.config import ServiceSettings
from service.main import create_app
from tests.integration.conftest import VALUECHAIN, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(redis_url: str, key_prefix: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield dict(os.environ, REDIS_URL=redis_url, KEY_PREFIX=key_prefix, STATE_DIR=str(tmp_path))
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{key_prefix}:*"))
    if keys:
        client.delete(*keys)


def _post_events(redis_url: str, prefix: str, n: int, start: int = 0) -> None:
    """Accept `n` events through the API (202 each batch)."""
    key = ApiKeyStore(redis.Redis.from_url(redis_url), prefix).create(f"w{start}", KeyRole.write)
    settings = ServiceSettings(_env_file=None, redis_url=redis_url, key_prefix=prefix)
    with TestClient(create_app(settings, models=ModelSet()), headers={"X-API-Key": key}) as api:
        for first in range(start, start + n, 10):
            events = [
                {"customer_id": f"C{i}", "item_id": f"I{i % 7}", "event_type": "view"}
                for i in range(first, min(first + 10, start + n))
            ]
            assert api.post("/v1/events", json={"events": events}).status_code == 202


def _crash(env: dict[str, str], out: Path, at: str) -> None:
    args = [*VALUECHAIN, "events", "export", "--out", str(out), "--batch", "25", "--crash-at", at]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr[-3000:]  # killed, as a crash would be


def _exported(out: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in sorted(out.glob("*.parquet"))])


def test_a_crash_between_read_and_write_loses_and_duplicates_nothing(
    env: dict[str, str], redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    out = tmp_path / "data" / "events"
    _post_events(redis_url, key_prefix, 60)
    _crash(env, out, "read")  # first batch read, then killed: no file, nothing acked
    assert not list(out.glob("*.parquet"))
    _crash(env, out, "written")  # the same batch again, written, killed before the ack
    assert len(list(out.glob("*.parquet"))) == 1
    _post_events(redis_url, key_prefix, 15, start=60)
    run_cli(env, "events", "export", "--out", out, "--batch", "25")
    rows = _exported(out)
    assert sorted(rows["customer_id"]) == sorted(f"C{i}" for i in range(75))  # each exactly once
    assert rows["event_id"].is_unique
    for f in out.glob("*.parquet"):  # the interactions contract, file names from the id range
        load_table(f, "interactions")
        assert re.fullmatch(r"events-\d+-\d+-\d+-\d+\.parquet", f.name), f.name
    again = run_cli(env, "events", "export", "--out", out, "--batch", "25")
    assert "exported 0 events" in again.stderr  # acknowledged and trimmed: nothing twice
    assert redis.Redis.from_url(redis_url).xlen(KeyLayout(key_prefix).events_stream) == 0


def test_training_data_includes_exported_events_once(
    env: dict[str, str], redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    base = pd.DataFrame(
        {
            "customer_id": ["A"],
            "item_id": ["I1"],
            "event_type": ["purchase"],
            "timestamp": ["2026-01-01T00:00:00"],
        }
    )
    base.to_csv(data / "interactions.csv", index=False)
    _post_events(redis_url, key_prefix, 12)
    run_cli(env, "events", "export", "--out", data / "events", "--batch", "5")
    # A copy of one file under another name: as if an export was retried with another batch.
    first = sorted((data / "events").glob("*.parquet"))[0]
    (data / "events" / "events-copy.parquet").write_bytes(first.read_bytes())
    loaded = load_interactions(data)
    assert len(loaded) == 1 + 12
    assert set(loaded["customer_id"]) == {"A", *(f"C{i}" for i in range(12))}
