"""Customer value transforms: RFM quintile scores, RFM segments and value tiers.

Pure pandas, no model code: `training.value.job` computes the inputs (recency, frequency,
revenue, predicted CLV) as of a date and calls these. Rules are documented in docs/value.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEGMENTS = (
    "champions",
    "loyal",
    "potential loyalists",
    "new",
    "at risk",
    "can't lose",
    "hibernating",
    "lost",
)
# Customers with no purchase by as_of: no RFM scores, not part of the eight segments.
PROSPECT = "prospect"
TIERS = ("high", "mid", "low", "potential")
RFM_COLUMNS = ("r_score", "f_score", "m_score", "rfm_score", "segment")


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Score each value 1-5 by its quintile among the non-missing values (5 = best).

    Ties share the average rank, so equal values always get equal scores. Missing values
    score 0.
    """
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    oriented = numeric if higher_is_better else -numeric
    pct = oriented.rank(method="average", pct=True)
    # The epsilon keeps exact quintile boundaries (e.g. pct 0.4) in the lower bucket.
    score = np.ceil(pct.to_numpy(dtype="float64") * 5 - 1e-9)
    score = np.where(np.isnan(score), 0, np.clip(score, 1, 5))
    return pd.Series(score.astype("int64"), index=values.index)


def rfm_scores(recency_days: pd.Series, frequency: pd.Series, monetary: pd.Series) -> pd.DataFrame:
    """R, F and M quintile scores (recency: fewer days = higher) and their "RFM" string.

    Args:
        recency_days: Days since the last purchase; NaN for customers without a purchase.
        frequency: Number of transactions.
        monetary: Revenue.

    Returns:
        Columns r_score, f_score, m_score (1-5, 0 without a purchase) and rfm_score ("545").
        Only customers with a purchase (non-missing recency) are ranked.
    """
    buyer = recency_days.notna()
    r = quintile_score(recency_days, higher_is_better=False)
    f = quintile_score(frequency.where(buyer), higher_is_better=True)
    m = quintile_score(monetary.where(buyer), higher_is_better=True)
    code = r.astype(str) + f.astype(str) + m.astype(str)
    return pd.DataFrame({"r_score": r, "f_score": f, "m_score": m, "rfm_score": code})


def rfm_segment(
    r_score: pd.Series, f_score: pd.Series, m_score: pd.Series, n_transactions: pd.Series
) -> pd.Series:
    """Named segment from R and FM = (F + M) / 2; the first matching rule wins.

    new (R >= 4, one transaction), champions (R >= 4, FM >= 4), can't lose (R <= 2, FM >= 4),
    loyal (R >= 3, FM >= 3.5), at risk (R <= 2, FM >= 3), potential loyalists (R >= 3),
    hibernating (R == 2), lost (R == 1); customers without a purchase (R == 0) are prospects.
    """
    r = r_score.to_numpy(dtype="float64")
    fm = (f_score.to_numpy(dtype="float64") + m_score.to_numpy(dtype="float64")) / 2
    n = n_transactions.to_numpy(dtype="float64")
    conditions = [
        r == 0,
        (r >= 4) & (n == 1),
        (r >= 4) & (fm >= 4),
        (r <= 2) & (fm >= 4),
        (r >= 3) & (fm >= 3.5),
        (r <= 2) & (fm >= 3),
        r >= 3,
        r == 2,
    ]
    choices = [
        PROSPECT,
        "new",
        "champions",
        "can't lose",
        "loyal",
        "at risk",
        "potential loyalists",
        "hibernating",
    ]
    labels = np.select(conditions, choices, default="lost")
    return pd.Series(labels, index=r_score.index, dtype="string")


@dataclass(frozen=True)
class TierThresholds:
    """How value tiers are cut; quantiles are taken over customers with a positive value.

    Attributes:
        high_quantile: total value at or above this quantile is "high".
        mid_quantile: total value at or above this quantile (and below high) is "mid".
        potential_historical_quantile: historical value at or below this quantile is "low".
        potential_predicted_quantile: predicted value at or above this quantile is "high".
        high_value: absolute total value for "high" (overrides high_quantile).
        mid_value: absolute total value for "mid" (overrides mid_quantile).
    """

    high_quantile: float = 0.8
    mid_quantile: float = 0.5
    potential_historical_quantile: float = 0.5
    potential_predicted_quantile: float = 0.8
    high_value: float | None = None
    mid_value: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "high_quantile",
            "mid_quantile",
            "potential_historical_quantile",
            "potential_predicted_quantile",
        ):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"TierThresholds.{name} must be in (0, 1), got {value}")
        if self.mid_quantile > self.high_quantile:
            raise ValueError("TierThresholds.mid_quantile must not exceed high_quantile")
        if (
            self.mid_value is not None
            and self.high_value is not None
            and self.mid_value > self.high_value
        ):
            raise ValueError("TierThresholds.mid_value must not exceed high_value")


def _positive_quantile(values: pd.Series, q: float) -> float:
    positive = values[values > 0]
    return float(positive.quantile(q)) if len(positive) else math.inf


def value_tiers(
    historical_value: pd.Series,
    predicted_value: pd.Series,
    total_value: pd.Series,
    thresholds: TierThresholds | None = None,
) -> pd.Series:
    """Tier each customer: potential, then high, mid, else low.

    "potential" = historical value at or below its `potential_historical_quantile` (or zero)
    while predicted value is positive and at or above its `potential_predicted_quantile`:
    someone who has not yet given much but is expected to. The other tiers cut total value.
    """
    t = thresholds or TierThresholds()
    hist = historical_value.fillna(0.0).astype("float64")
    pred = predicted_value.fillna(0.0).astype("float64")
    total = total_value.fillna(0.0).astype("float64")
    high = t.high_value if t.high_value is not None else _positive_quantile(total, t.high_quantile)
    mid = t.mid_value if t.mid_value is not None else _positive_quantile(total, t.mid_quantile)
    hist_low = _positive_quantile(hist, t.potential_historical_quantile)
    pred_high = _positive_quantile(pred, t.potential_predicted_quantile)
    potential = (pred > 0) & (pred >= pred_high) & ((hist <= hist_low) | (hist <= 0))
    conditions = [
        potential.to_numpy(),
        (total > 0).to_numpy() & (total >= high).to_numpy(),
        (total > 0).to_numpy() & (total >= mid).to_numpy(),
    ]
    labels = np.select(conditions, ["potential", "high", "mid"], default="low")
    return pd.Series(labels, index=total.index, dtype="string")
