"""The whole service on a real Redis Cluster: materialize, every endpoint, events, exports, keys.

Three redis-server masters on loopback, created by the session fixture `cluster_url`. The world
(trained once per session on the plain Redis) is materialized into the cluster by the CLI with
`REDIS_CLUSTER=true`, then served over real HTTP; answers must equal the plain-Redis service's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, ResponseError

from features.redis_client import redis_client
from features.redis_keys import KeyLayout
from service.config import ServiceSettings
from service.main import create_app
from tests.integration.conftest import World, run_cli, served

pytestmark = pytest.mark.integration

LEAD = {"source": "referral", "industry": "retail", "company_size": 120, "email_opens": 6}


@dataclass(frozen=True)
class Cluster:
    """The world materialized into the cluster: CLI environment, settings, an admin client."""

    env: dict[str, str]
    settings: ServiceSettings
    api: httpx.Client
    client: RedisCluster
    keys: KeyLayout


@pytest.fixture(scope="module")
def cluster(world: World, cluster_url: str) -> Iterator[Cluster]:
    env = dict(world.env, REDIS_URL=cluster_url, REDIS_CLUSTER="true")
    run_cli(env, "materialize", "--data", world.data, "--value", world.data / "value.parquet")
    out = run_cli(env, "keys", "create", "--name", "cluster-admin", "--role", "admin").stdout
    settings = world.settings.model_copy(
        update={"redis_url": cluster_url, "redis_cluster": True, "keys_refresh_seconds": 0.5}
    )
    client = redis_client(cluster_url, cluster=True)
    assert isinstance(client, RedisCluster)
    with served(create_app(settings), {"X-API-Key": out.strip().splitlines()[-1]}) as api:
        yield Cluster(env, settings, api, client, KeyLayout(settings.key_prefix))
    client.close()


@pytest.fixture(scope="module")
def ids(world: World) -> dict[str, str]:
    events = pd.read_parquet(world.data / "interactions.parquet")
    buys = events.loc[events["event_type"] == "purchase", "customer_id"].value_counts()
    item = str(pd.read_parquet(world.data / "items.parquet")["item_id"].iloc[0])
    return {"buyer": str(buys.index[0]), "other": str(buys.index[1]), "item": item}


def test_the_fixture_is_a_real_cluster_that_refuses_cross_slot_transactions(
    cluster: Cluster,
) -> None:
    # What the old layout did (`vc:version` with `vc:versions` in one MULTI) fails here.
    assert len(cluster.client.get_primaries()) == 3
    pipe = cluster.client.pipeline(transaction=True)
    pipe.set("cross-slot-a", 1)
    pipe.set("cross-slot-b", 1)
    with pytest.raises((RedisClusterException, ResponseError), match=r"(?i)slot"):
        pipe.execute()


def test_materialize_spreads_customers_over_every_master(cluster: Cluster) -> None:
    version = cluster.client.get(cluster.keys.version)
    assert version is not None
    pattern = cluster.keys.customer(version.decode(), "*")
    nodes = [cluster.client.get_redis_connection(n) for n in cluster.client.get_primaries()]
    per_node = [sum(1 for _ in node.scan_iter(match=pattern, count=1000)) for node in nodes]
    assert min(per_node) > 0 and sum(per_node) > 1000, per_node


def test_every_endpoint_answers_as_on_a_single_redis(
    cluster: Cluster, api: httpx.Client, ids: dict[str, str]
) -> None:
    buyer, item = ids["buyer"], ids["item"]
    same = [
        f"/v1/customers/{buyer}/recommendations?k=5",
        f"/v1/customers/{buyer}/upsell?k=5",
        f"/v1/items/{item}/similar?k=5",
        f"/v1/items/{item}/bought-together?k=5",
        f"/v1/customers/{buyer}/churn",
        "/v1/customers/at-risk?limit=5",
        f"/v1/customers/{buyer}",
        "/v1/segments",
        "/v1/models/lead",
        "/v1/admin/models",
    ]
    called = {"/healthz", "/readyz", "/v1/models", "/v1/churn/score", "/v1/leads/score"}
    called |= {"/v1/events", "/v1/admin/models/reload"}  # test_events_... posts the events
    for path in same:
        on_cluster, on_single = cluster.api.get(path), api.get(path)
        assert on_cluster.status_code == 200, (path, on_cluster.text)
        assert on_cluster.json() == on_single.json(), path
        called.add(path.split("?")[0].replace(buyer, "{customer_id}").replace(item, "{item_id}"))
    churn = {"customer_ids": [buyer, ids["other"], "ghost"]}
    assert cluster.api.post("/v1/churn/score", json=churn).json() == (
        api.post("/v1/churn/score", json=churn).json()
    )
    assert cluster.api.post("/v1/leads/score", json=LEAD).json() == (
        api.post("/v1/leads/score", json=LEAD).json()
    )
    ready = cluster.api.get("/readyz").json()
    assert ready["ready"] and ready["store"] and ready["cache_version"]
    assert cluster.api.get("/healthz").status_code == 200
    drift = cluster.api.get("/v1/models")
    assert drift.status_code == 200 and drift.json()["cache_version"] == ready["cache_version"]
    assert cluster.api.post("/v1/admin/models/reload").status_code == 200
    paths = {p.replace("/v1/models/{role}", "/v1/models/lead") for p in _operations(cluster.api)}
    assert paths <= called, f"not exercised on the cluster: {sorted(paths - called)}"


def test_events_reach_recommendations_and_the_exporter_once(
    cluster: Cluster, ids: dict[str, str], tmp_path: Path
) -> None:
    buyer, other, item = ids["buyer"], ids["other"], ids["item"]
    batch = [
        {"customer_id": c, "item_id": item, "event_type": kind, "timestamp": 1_700_000_000 + n}
        for n, (c, kind) in enumerate([(buyer, "view"), (other, "view"), (buyer, "purchase")])
    ]
    posted = cluster.api.post("/v1/events", json={"events": batch})
    assert posted.status_code == 202, posted.text
    recs = cluster.api.get(f"/v1/customers/{buyer}/recommendations", params={"k": 10}).json()
    assert item not in {i["item_id"] for i in recs["items"]}  # bought: excluded

    out = tmp_path / "events"
    run_cli(cluster.env, "events", "export", "--out", out)
    exported = pd.concat(pd.read_parquet(f) for f in sorted(out.glob("*.parquet")))
    assert list(exported["customer_id"]) == [buyer, other, buyer]
    assert list(exported["event_type"]) == ["view", "view", "purchase"]
    run_cli(cluster.env, "events", "export", "--out", out)  # nothing new: nothing rewritten
    assert len(list(out.glob("*.parquet"))) == 1
    assert cluster.client.xlen(cluster.keys.events_stream) == 0  # trimmed once exported


def test_keys_and_rate_limits_live_in_the_cluster(cluster: Cluster, ids: dict[str, str]) -> None:
    out = run_cli(cluster.env, "keys", "create", "--name", "cluster-reader", "--role", "read")
    reader = {"X-API-Key": out.stdout.strip().splitlines()[-1]}
    assert "cluster-reader" in run_cli(cluster.env, "keys", "list").stdout
    limited = cluster.settings.model_copy(update={"rate_limit": "3/minute"})
    path = f"/v1/customers/{ids['buyer']}/churn"
    with served(create_app(limited), reader) as api:
        assert [api.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert int(api.get(path).headers["Retry-After"]) >= 1
        # Counted in the cluster, not in the worker's memory (the Redis-outage fallback).
        assert list(cluster.client.scan_iter(match=f"{cluster.keys.rate_limits}:*"))
        run_cli(cluster.env, "keys", "revoke", "cluster-reader")
        deadline = time.monotonic() + 30
        while api.get(path).status_code != 401:
            assert time.monotonic() < deadline, "a revoked key was still accepted"
            time.sleep(0.25)


def test_a_bulk_export_from_the_cluster_equals_one_from_a_single_redis(
    cluster: Cluster, world: World, tmp_path: Path
) -> None:
    # `valuechain export` lists every customer of the cache: a SCAN over every master.
    run_cli(cluster.env, "export", "scores", "--out", tmp_path / "cluster.parquet")
    run_cli(world.env, "export", "scores", "--out", tmp_path / "single.parquet")
    frames = [
        pd.read_parquet(tmp_path / f"{name}.parquet").sort_values("customer_id", ignore_index=True)
        for name in ("cluster", "single")
    ]
    assert len(frames[0]) > 1000
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_rematerializing_keeps_two_versions_and_drops_older_ones(
    cluster: Cluster, world: World
) -> None:
    first = cluster.client.get(cluster.keys.version)
    assert first is not None
    for _ in range(2):
        run_cli(cluster.env, "materialize", "--data", world.data, "--without-models")
    versions = [v.decode() for v in cluster.client.lrange(cluster.keys.versions, 0, -1)]
    assert len(versions) == 2 and first.decode() not in versions
    assert not list(cluster.client.scan_iter(match=cluster.keys.version_pattern(first.decode())))
    for version in versions:
        assert list(cluster.client.scan_iter(match=cluster.keys.customer(version, "*")))
    deadline = time.monotonic() + 10  # the service caches the version id for a second
    while cluster.api.get("/readyz").json()["cache_version"] != versions[0]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _operations(api: httpx.Client) -> set[str]:
    """Every path in the served OpenAPI document."""
    return set(api.get("/openapi.json").json()["paths"])
