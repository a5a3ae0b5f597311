"""Customer features only see the past, and mean what their names say."""

from __future__ import annotations

import pandas as pd

from features.customer import customer_features
from features.tables import churn_labels

T = pd.Timestamp


def _world() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_date": [T("2024-01-01"), T("2024-01-01"), T("2024-06-01")],
            "region": ["north", "south", "north"],
            "acquisition_channel": ["web", "ads", "web"],
            "referred_by": [None, "a", None],
            "cancelled_at": [pd.NaT, pd.NaT, pd.NaT],
        }
    )
    interactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "a"],
            "item_id": ["i1", "i2", "i1", "i1", "i2", "i3"],
            "event_type": ["purchase", "purchase", "view", "purchase", "purchase", "purchase"],
            "timestamp": [
                T("2024-03-01"),
                T("2024-03-01"),
                T("2024-03-20"),
                T("2024-02-01"),
                T("2024-03-25"),
                T("2024-05-01"),
            ],
            "quantity": [1] * 6,
            "amount": [10.0, 5.0, 0.0, 7.0, 3.0, 100.0],
        }
    )
    tickets = pd.DataFrame(
        {
            "customer_id": ["b", "b"],
            "created_at": [T("2024-03-10"), T("2024-03-28")],
            "kind": ["billing", "delivery"],
            "resolved": [True, False],
            "satisfaction": [2.0, None],
            "resolved_at": [T("2024-05-15"), pd.NaT],
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3"],
            "category": ["x", "y", "x"],
            "brand": ["b"] * 3,
            "price": [1.0, 2.0, 3.0],
        }
    )
    return {
        "customers": customers,
        "interactions": interactions,
        "tickets": tickets,
        "items": items,
    }


def test_features_as_of_a_date() -> None:
    w = _world()
    f = customer_features(
        w["customers"], w["interactions"], w["tickets"], w["items"], T("2024-04-01")
    )
    assert list(f.index) == ["a", "b"]  # c signed up later
    a, b = f.loc["a"], f.loc["b"]
    assert a["frequency"] == 1  # two purchases on one day are one order
    assert a["monetary"] == 15.0 and a["recency_days"] == 31
    assert a["category_breadth"] == 2 and a["referrals_made"] == 1
    assert b["was_referred"] and b["frequency"] == 2
    # The billing ticket was resolved only in May: on April 1st both were open, and its
    # satisfaction answer (given on resolution) was not known yet.
    assert b["unresolved_tickets"] == 2 and pd.isna(b["avg_satisfaction"])


def test_the_future_does_not_leak() -> None:
    w = _world()
    before = customer_features(
        w["customers"], w["interactions"], w["tickets"], w["items"], T("2024-04-01")
    )
    extra = pd.DataFrame(
        {
            "customer_id": ["a"],
            "item_id": ["i2"],
            "event_type": ["purchase"],
            "timestamp": [T("2024-04-02")],
            "quantity": [1],
            "amount": [50.0],
        }
    )
    after = customer_features(
        w["customers"],
        pd.concat([w["interactions"], extra]),
        w["tickets"],
        w["items"],
        T("2024-04-01"),
    )
    pd.testing.assert_frame_equal(before, after)


def test_churn_label_is_no_purchase_in_the_horizon() -> None:
    w = _world()
    labels = churn_labels(w["customers"], w["interactions"], T("2024-04-01"), 60)
    assert labels.to_dict() == {"a": 0, "b": 1, "c": 1}


def test_churn_definitions() -> None:
    w = _world()
    customers = w["customers"].assign(cancelled_at=[pd.NaT, pd.NaT, T("2024-04-10")])
    snapshot = T("2024-04-01")
    cancel = churn_labels(customers, w["interactions"], snapshot, 60, definition="cancellation")
    no_buy = churn_labels(customers, w["interactions"], snapshot, 60, definition="no-purchase")
    either = churn_labels(customers, w["interactions"], snapshot, 60, definition="either")
    assert cancel.to_dict() == {"a": 0, "b": 0, "c": 1}
    assert no_buy.to_dict() == {"a": 0, "b": 1, "c": 1}
    assert either.to_dict() == {"a": 0, "b": 1, "c": 1}
