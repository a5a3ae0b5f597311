"""Lead features: one definition for a table and for one inline lead."""

from __future__ import annotations

import pandas as pd

from features.lead import FEATURES, lead_features, lead_record_features


def test_table_and_record_agree() -> None:
    lead = {
        "lead_id": "l1",
        "source": "web",
        "industry": "retail",
        "region": "north",
        "company_size": 50,
        "email_opens": 3,
        "web_visits": 4,
        "content_downloads": 1,
        "meetings": 0,
    }
    table = lead_features(pd.DataFrame([lead]))
    record = lead_record_features(lead)
    assert list(table.columns) == list(FEATURES)
    for name in FEATURES:
        assert table.loc["l1", name] == record[name]
    assert record["engagement_total"] == 8


def test_missing_fields_stay_missing() -> None:
    record = lead_record_features({"source": "referral"})
    assert record["industry"] is None and record["company_size"] is None
    assert record["engagement_total"] is None
