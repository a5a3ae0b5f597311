"""Bad input: the CLI names file and column, exits non-zero and leaves nothing half-done."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
import redis

from tests.integration.conftest import VALUECHAIN, World

pytestmark = pytest.mark.integration


@pytest.fixture
def broken_world(world: World, tmp_path: Path) -> Path:
    """A copy of the world whose interactions lost their `timestamp` column."""
    data = tmp_path / "broken"
    shutil.copytree(world.data, data)
    events = pd.read_parquet(data / "interactions.parquet")
    events.drop(columns=["timestamp"]).to_parquet(data / "interactions.parquet")
    return data


def _run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VALUECHAIN, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_materialize_refuses_and_writes_nothing(
    world: World, broken_world: Path, redis_url: str
) -> None:
    prefix = f"bad{uuid.uuid4().hex[:8]}"
    result = _run(dict(world.env, KEY_PREFIX=prefix), "materialize", "--data", broken_world)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "interactions.parquet" in message and "timestamp" in message
    assert not list(redis.Redis.from_url(redis_url).scan_iter(match=f"{prefix}:*"))


def test_training_refuses_and_registers_nothing(world: World, broken_world: Path) -> None:
    before = _run(world.env, "models", "list").stdout
    result = _run(world.env, "train", "churn", "--data", broken_world)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "interactions.parquet" in message and "timestamp" in message
    assert "Traceback" not in message
    assert _run(world.env, "models", "list").stdout == before


def test_generate_refuses_bad_arguments(world: World, tmp_path: Path) -> None:
    result = _run(world.env, "generate", "--out", tmp_path / "w", "--customers", "0", "--seed", "1")
    assert result.returncode != 0 and "customers" in result.stderr
    assert not (tmp_path / "w").exists()
