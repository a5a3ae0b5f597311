"""The OnlineStore contract, run against the real Redis backend."""

from __future__ import annotations

import pytest

from features.redis_store import RedisOnlineStore
from features.store import CustomerRecord, Event

pytestmark = pytest.mark.integration


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
    stale_reader = RedisOnlineStore(store._r, prefix=store._p)
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


def test_events_newest_first_capped_and_survive_rematerialization(store: RedisOnlineStore) -> None:
    capped = RedisOnlineStore(store._r, prefix=store._p, max_events=3)
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
    store._r.lpush(f"{store._p}:ev:c1", b'{"i": "i2", "e": "view", "t": null}')
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
