"""Lead features of the built-in world: the leads table's own fields, nothing derived.

The lead model is served on the fields it was trained on (`POST /v1/leads/score` takes them as
named in the training table), so the world's lead features are exactly the columns a CRM sends;
a derived column (such as a sum of touches) would have to be computed by every client.
"""

from __future__ import annotations

import pandas as pd

ENGAGEMENT = ("email_opens", "web_visits", "content_downloads", "meetings")
NUMERIC_FEATURES = ("company_size", *ENGAGEMENT)
CATEGORICAL_FEATURES = ("source", "industry", "region")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

FEATURE_TEXT: dict[str, str] = {
    "company_size": "{value:,.0f} employee{|s}",
    "email_opens": "{value:.0f} email open{|s}",
    "web_visits": "{value:.0f} web visit{|s}",
    "content_downloads": "{value:.0f} content download{|s}",
    "meetings": "{value:.0f} meeting{|s} held",
    "source": "source: {value}",
    "industry": "industry: {value}",
    "region": "region: {value}",
}


def lead_features(leads: pd.DataFrame) -> pd.DataFrame:
    """Features of a leads table (features.schema.LEADS), indexed by `lead_id`."""
    out = leads.set_index("lead_id")[[c for c in FEATURES if c in leads.columns]].copy()
    for col in NUMERIC_FEATURES:
        out[col] = out[col].astype(float) if col in out.columns else float("nan")
    for col in CATEGORICAL_FEATURES:
        out[col] = out[col].astype("string") if col in out.columns else pd.NA
    return out[list(FEATURES)]
