"""Lead features: one definition for a stored table (training) and an inline lead (serving)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

ENGAGEMENT = ("email_opens", "web_visits", "content_downloads", "meetings")
NUMERIC_FEATURES = ("company_size", *ENGAGEMENT, "engagement_total")
CATEGORICAL_FEATURES = ("source", "industry", "region")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

FEATURE_TEXT: dict[str, str] = {
    "company_size": "{value:,.0f} employees",
    "email_opens": "{value:.0f} email opens",
    "web_visits": "{value:.0f} web visits",
    "content_downloads": "{value:.0f} content downloads",
    "meetings": "{value:.0f} meetings held",
    "engagement_total": "{value:.0f} engagement touches in total",
    "source": "source: {value}",
    "industry": "industry: {value}",
    "region": "region: {value}",
}


def lead_features(leads: pd.DataFrame) -> pd.DataFrame:
    """Features of a leads table (features.schema.LEADS), indexed by `lead_id`."""
    out = leads.set_index("lead_id")[[c for c in FEATURES if c in leads.columns]].copy()
    for col in NUMERIC_FEATURES:
        if col != "engagement_total":
            out[col] = out[col].astype(float) if col in out.columns else float("nan")
    out["engagement_total"] = out[list(ENGAGEMENT)].sum(axis=1, min_count=1)
    for col in CATEGORICAL_FEATURES:
        out[col] = out[col].astype("string") if col in out.columns else pd.NA
    return out[list(FEATURES)]


def lead_record_features(lead: Mapping[str, Any]) -> dict[str, Any]:
    """Features of one inline lead (a request body) without pandas; absent fields stay None."""
    features: dict[str, Any] = {
        name: lead.get(name) for name in FEATURES if name != "engagement_total"
    }
    touches = [lead.get(name) for name in ENGAGEMENT]
    present = [float(v) for v in touches if v is not None]
    features["engagement_total"] = sum(present) if present else None
    return features
