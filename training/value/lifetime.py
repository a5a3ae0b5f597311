"""Customer lifetime value: BG/NBD purchases x Gamma-Gamma spend, discounted monthly.

CLV over H months = E[spend per transaction] * sum_{m=1..H} (E[Y(m)] - E[Y(m-1)]) / (1+d)^m,
where E[Y(m)] is the BG/NBD expected number of purchases in the next m months and d the
monthly discount rate. A month is 365.25/12 = 30.4375 days. Fitted parameters are plain JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.value.bgnbd import BgNbdFit, BgNbdParams, expected_purchases, fit_bgnbd, p_alive
from training.value.gamma_gamma import (
    GammaGammaFit,
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
)
from training.value.optimize import distinct_rows
from training.value.summary import unit_days

DAYS_PER_MONTH = 365.25 / 12
PREDICTION_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "predicted_clv")


@dataclass(frozen=True)
class ClvModel:
    """Both fitted models and the time unit their recency/T are measured in."""

    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    time_unit: str

    def to_dict(self) -> dict[str, Any]:
        """Parameters, log-likelihoods, sizes and convergence as a JSON-ready dict."""
        return {
            **self.bgnbd.params.as_dict(),
            **self.gamma_gamma.params.as_dict(),
            "bgnbd_log_likelihood": self.bgnbd.log_likelihood,
            "gamma_gamma_log_likelihood": self.gamma_gamma.log_likelihood,
            "n_customers": self.bgnbd.n_customers,
            "n_customers_gamma_gamma": self.gamma_gamma.n_customers,
            "bgnbd_converged": self.bgnbd.converged,
            "gamma_gamma_converged": self.gamma_gamma.converged,
            "bgnbd_message": self.bgnbd.message,
            "gamma_gamma_message": self.gamma_gamma.message,
            "time_unit": self.time_unit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClvModel:
        """Rebuild a model from `to_dict` output (e.g. a JSON file)."""
        bg = BgNbdFit(
            BgNbdParams(data["r"], data["alpha"], data["a"], data["b"]),
            data["bgnbd_log_likelihood"],
            data["n_customers"],
            data["bgnbd_converged"],
            data["bgnbd_message"],
            0,
            "loaded",
        )
        gg = GammaGammaFit(
            GammaGammaParams(data["p"], data["q"], data["gamma"]),
            data["gamma_gamma_log_likelihood"],
            data["n_customers_gamma_gamma"],
            data["gamma_gamma_converged"],
            data["gamma_gamma_message"],
            0,
            "loaded",
        )
        return cls(bg, gg, str(data["time_unit"]))

    def save(self, path: Path) -> None:
        """Write the parameters as JSON (no pickle)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> ClvModel:
        """Read a model written by `save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def fit_clv(summary: pd.DataFrame, time_unit: str, *, penalizer: float = 0.0) -> ClvModel:
    """Fit BG/NBD on every customer of `summary` and Gamma-Gamma on those with repeats.

    Args:
        summary: Output of `training.value.summary.summarize_transactions` in `time_unit`.
        time_unit: "day" or "week", the unit of the summary's recency and T.
        penalizer: Optional L2 penalty on log-parameters for both models.
    """
    unit_days(time_unit)
    bg = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], penalizer=penalizer)
    gg = fit_gamma_gamma(summary["frequency"], summary["monetary_value"], penalizer=penalizer)
    return ClvModel(bg, gg, time_unit)


def discounted_purchases(
    params: BgNbdParams,
    summary: pd.DataFrame,
    horizon_months: int,
    monthly_discount: float,
    time_unit: str,
) -> np.ndarray:
    """Sum over months m of the expected purchases in month m, divided by (1+d)^m."""
    month = DAYS_PER_MONTH / unit_days(time_unit)
    x, t_x, age = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    total = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for m in range(1, horizon_months + 1):
        cumulative = expected_purchases(params, m * month, x, t_x, age)
        total += (cumulative - previous) / (1.0 + monthly_discount) ** m
        previous = cumulative
    return total


def predict_clv(
    model: ClvModel, summary: pd.DataFrame, horizon_months: int = 12, monthly_discount: float = 0.01
) -> pd.DataFrame:
    """Per-customer P(alive), expected purchases, expected spend and discounted CLV.

    Args:
        model: A fitted `ClvModel`.
        summary: Customer summary in `model.time_unit` (same index is kept).
        horizon_months: Prediction horizon in months.
        monthly_discount: Discount rate per month (0.01 is about 12.7% a year).

    Returns:
        A frame indexed like `summary` with columns `PREDICTION_COLUMNS`.
    """
    if horizon_months < 0 or monthly_discount <= -1:
        raise ValueError("horizon_months must be >= 0 and monthly_discount > -1")
    bg, gg = model.bgnbd.params, model.gamma_gamma.params
    columns = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    # The BG/NBD predictions depend on (x, t_x, T) only: compute them once per distinct row
    # (the same numbers, since every formula is elementwise) and hand them to every customer.
    (x, t_x, age), inverse = distinct_rows(*columns)
    distinct = pd.DataFrame({"frequency": x, "recency": t_x, "T": age})
    horizon = horizon_months * DAYS_PER_MONTH / unit_days(model.time_unit)
    spend = expected_spend(
        gg,
        summary["frequency"].to_numpy(dtype="float64"),
        summary["monetary_value"].to_numpy(dtype="float64"),
    )
    spend = np.nan_to_num(spend, nan=0.0)
    discounted = discounted_purchases(
        bg, distinct, horizon_months, monthly_discount, model.time_unit
    )
    return pd.DataFrame(
        {
            "p_alive": p_alive(bg, x, t_x, age)[inverse],
            "expected_purchases": expected_purchases(bg, horizon, x, t_x, age)[inverse],
            "expected_spend": spend,
            "predicted_clv": spend * discounted[inverse],
        },
        index=summary.index,
    )
