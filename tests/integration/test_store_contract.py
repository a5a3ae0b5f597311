"""The OnlineStore contract, run against a real Redis server and a real Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from features.cache_version import write_version
from features.redis_store import RedisOnlineStore
from features.store import CustomerRecord, Event
from tests.integration.conftest import drop_prefix

pytestmark = pytest.mark.integration


@pytest.fixture(params=["server", "cluster"])
def store(request: pytest.FixtureRequest, key_prefix: str) -> Iterator[RedisOnlineStore]:
    """The store under a fresh prefix on one Redis server, then on a three-master cluster."""
    cluster = request.param == "cluster"
    url: str = request.getfixturevalue("cluster_url" if cluster else "redis_url")
    online = RedisOnlineStore.from_url(
        url, cluster=cluster, prefix=key_prefix, version_cache_seconds=0
    )
    yield online
    online.close()
    drop_prefix(url, key_prefix, cluster=cluster)


def rec(customer_id: str, a: object) -> CustomerRecord:
    return CustomerRecord(customer_id, features={"a": a})


def test_nothing_is_visible_before_the_first_commit(store: RedisOnlineStore) -> None:
    version = store.begin_version()
    store.write_customers(version, [rec("c1", 0)])
    assert store.current_version() is None
    assert not store.read_customer("c1").materialized


def test_commit_switches_versions_atomically_and_drops_the_old_one(store: RedisOnlineStore) -> None:
    first = store.begin_version()
    store.write_customers(first, [rec("c1", 1), rec("c2", 2)])
    store.commit_version(first)
    second = store.begin_version() + "x"
    store.write_customers(second, [rec("c1", 3)])
    assert store.read_customer("c1").features == {"a": 1}  # old version until commit
    assert store.commit_version(second) == first
    assert store.read_customer("c1").features == {"a": 3}
    assert not store.read_customer("c2").materialized  # not in the current version


def test_the_previous_version_outlives_one_commit(store: RedisOnlineStore) -> None:
    # Guards the race where a worker still holding the old version id found nothing.
    versions = [f"v{n}" for n in range(3)]
    for version in versions:
        store.write_customers(version, [rec("c1", version)])
        store.commit_version(version)
    stale_reader = RedisOnlineStore(store.client, prefix=store.layout.prefix)
    stale_reader._cached = (float("inf"), "v1")  # a reader that has not seen v2 yet
    assert stale_reader.read_customer("c1").features == {"a": "v1"}
    stale_reader._cached = (float("inf"), "v0")
    assert not stale_reader.read_customer("c1").materialized  # two commits ago: dropped


def test_abort_leaves_the_current_version(store: RedisOnlineStore) -> None:
    live = store.begin_version()
    store.write_customers(live, [rec("c1", 1)])
    store.commit_version(live)
    failed = live + "-failed"
    store.write_customers(failed, [rec("c1", 2)])
    store.abort_version(failed)
    assert store.read_customer("c1").features == {"a": 1}


def test_read_customers_in_one_batch(store: RedisOnlineStore) -> None:
    version = store.begin_version()
    store.write_customers(version, [rec(f"c{i}", i) for i in range(5000)])
    store.commit_version(version)
    records = store.read_customers(["c1", "missing", "c4999"])
    assert [r.materialized for r in records] == [True, False, True]
    assert records[2].features == {"a": 4999}
    (one,) = store.read_customers(["c4999"])  # one id: read without a pipeline, same answer
    assert (one.customer_id, one.features) == ("c4999", {"a": 4999})
    assert [r.materialized for r in store.read_customers(["missing"])] == [False]


def test_events_newest_first_capped_and_survive_rematerialization(store: RedisOnlineStore) -> None:
    capped = RedisOnlineStore(store.client, prefix=store.layout.prefix, max_events=3)
    capped.append_events([Event("c1", f"i{n}", "view", float(n)) for n in range(5)])
    version = store.begin_version()
    store.write_customers(version, [rec("c1", 0)])
    store.commit_version(version)
    events = store.read_customer("c1").events
    assert [e.item_id for e in events] == ["i4", "i3", "i2"]
    assert events[0].event_type == "view" and events[0].ts == 4.0


def test_ranking_and_meta(store: RedisOnlineStore) -> None:
    version = store.begin_version()
    store.write_ranking(version, "churn", {"a": 0.1, "b": 0.9, "c": 0.5})
    store.write_meta(version, {"as_of": "2026-01-01"})
    assert store.top_ranking("churn", 2) == []  # not committed yet
    store.commit_version(version)
    assert store.top_ranking("churn", 2) == [("b", 0.9), ("c", 0.5)]
    assert store.read_meta()["as_of"] == "2026-01-01"


def test_ping(store: RedisOnlineStore) -> None:
    assert store.ping()


def test_an_unreadable_event_is_skipped_not_fatal(store: RedisOnlineStore) -> None:
    store.append_events([Event("c1", "i1", "view", 1.0)])
    store.client.lpush(store.layout.events("c1"), b'{"i": "i2", "e": "view", "t": null}')
    assert [e.item_id for e in store.read_customer("c1").events] == ["i1"]


def test_a_record_round_trips_features_value_and_state(store: RedisOnlineStore) -> None:
    version = store.begin_version()
    written = CustomerRecord(
        "c1",
        features={"x": 1.5, "region": "north"},
        value={"tier": "high", "tags": ["vip"]},
        rec_state={"uf": b"\x00\x01", "mv": b"m1"},
    )
    assert store.write_customers(version, [written, CustomerRecord("empty")]) == 1
    store.commit_version(version)
    read = store.read_customer("c1")
    assert (read.features, read.value, read.rec_state) == (
        written.features,
        written.value,
        written.rec_state,
    )
    assert not store.read_customer("empty").materialized


def test_customer_ids_lists_the_current_version_once_each(store: RedisOnlineStore) -> None:
    assert list(store.customer_ids()) == []
    old = store.begin_version()
    store.write_customers(old, [rec("gone", 0)])
    store.commit_version(old)
    version = store.begin_version() + "b"
    store.write_customers(version, [rec(f"c{i}", i) for i in range(2500)])
    store.commit_version(version)
    batches = list(store.customer_ids(batch=1000))
    assert all(len(b) <= 1000 for b in batches)
    ids = [cid for b in batches for cid in b]
    assert sorted(ids) == sorted(f"c{i}" for i in range(2500))  # not "gone", no duplicates
    assert store.customer_bytes(sample=50) > 0


def test_events_of_many_customers_in_one_call_reach_each_list_and_the_stream_once(
    store: RedisOnlineStore,
) -> None:
    # Guards the cross-slot MULTI of issue 14: several customers' lists and the stream in one
    # transaction, which a Redis Cluster refuses (CROSSSLOT).
    events = [Event(f"c{n % 7}", f"i{n}", "view", float(n)) for n in range(40)]
    store.append_events(events)
    for n in range(7):
        got = [e.item_id for e in store.read_customer(f"c{n}").events]
        assert got == [f"i{m}" for m in reversed(range(40)) if m % 7 == n]
    stream = store.client.xrange(store.layout.events_stream)
    assert [fields[b"c"].decode() for _, fields in stream] == [e.customer_id for e in events]


def test_a_failed_materialization_leaves_the_old_version_and_no_keys(
    store: RedisOnlineStore,
) -> None:
    # On a cluster the partial version's customers lie on every master: all must go.
    live, _, _ = write_version(store, lambda v: (store.write_customers(v, [rec("c1", 1)]), 0, {}))

    def half(version: str) -> tuple[int, int, dict[str, object]]:
        store.write_customers(version, [rec(f"c{i}", 2) for i in range(300)])
        store.write_ranking(version, "churn", {"c1": 0.5})
        raise RuntimeError("the model failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        write_version(store, half)
    assert store.current_version() == live
    assert store.read_customer("c1").features == {"a": 1}
    keys = {k.decode() for k in store.client.scan_iter(match=f"{store.layout.prefix}:v:*")}
    assert keys == {store.layout.customer(live, "c1"), store.layout.meta(live)}
