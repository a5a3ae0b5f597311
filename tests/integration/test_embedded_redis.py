"""The embedded redis-server: persisted between commands, shared while one is running."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from features.connect import redis_url
from features.embedded_redis import EmbeddedRedis
from features.settings import Settings

pytestmark = pytest.mark.integration


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        redis.Redis.from_url(server.url).set("k", "v")
    with EmbeddedRedis(tmp_path) as server:
        assert redis.Redis.from_url(server.url).get("k") == b"v"


def test_a_second_command_shares_the_running_server(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, redis_url=None, state_dir=tmp_path)
    with redis_url(settings, tmp_path) as first:
        with redis_url(settings, tmp_path) as second:
            assert second == first  # no second server on the same data directory
            redis.Redis.from_url(second).set("shared", "yes")
        assert redis.Redis.from_url(first).get("shared") == b"yes"  # still up
    assert EmbeddedRedis.running_url(tmp_path / "redis") is None
