"""Lead features: the leads table's own fields, so a CRM can send them as they are."""

from __future__ import annotations

import pandas as pd

from features.lead import FEATURES, lead_features


def test_features_are_the_table_fields_nothing_derived() -> None:
    # Guards issue 10: a derived `engagement_total` made every API client compute a sum.
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
    assert list(table.columns) == list(FEATURES)
    for name in FEATURES:
        assert table.loc["l1", name] == lead[name]


def test_absent_columns_are_missing() -> None:
    table = lead_features(pd.DataFrame([{"lead_id": "l2", "source": "referral"}]))
    assert table["industry"].isna().all() and table["company_size"].isna().all()
