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


class _LeadChampion:
    """What `population_drift` reads of a lead champion: its feature names and PSI per feature."""

    def __init__(self, feature_names: list[str]) -> None:
        self.feature_names = feature_names
        self.frames: list[pd.DataFrame] = []

    def drift(self, frame: pd.DataFrame) -> dict[str, float]:
        self.frames.append(frame)
        return {name: 0.01 for name in self.feature_names}


def test_lead_drift_only_for_a_champion_trained_on_this_leads_table() -> None:
    # Guards a review finding: a champion trained with `train lead --table` on the CRM's own
    # columns had every feature "drifted" (all missing here) at PSI ~9.
    from features.materialize import population_drift

    as_of = pd.Timestamp("2026-01-31")
    leads = pd.DataFrame(
        [{"lead_id": "l1", "source": "web", "email_opens": 2, "created_at": as_of}]
    )
    own = _LeadChampion(["budget_eur", "deal_stage"])
    assert population_drift(pd.DataFrame(), None, own, leads, as_of) == {}
    assert own.frames == []
    builtin = _LeadChampion(["source", "email_opens"])
    drift = population_drift(pd.DataFrame(), None, builtin, leads, as_of)
    assert drift["lead"]["rows"] == 1 and set(drift["lead"]["psi"]) == {"source", "email_opens"}
