"""Customer lifetime value: BG/NBD + Gamma-Gamma fitted by maximum likelihood (no pickle)."""

from training.value.bgnbd import (
    BgNbdFit,
    BgNbdParams,
    bgnbd_log_likelihood,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    p_alive,
)
from training.value.gamma_gamma import (
    GammaGammaFit,
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from training.value.lifetime import ClvModel, fit_clv, predict_clv
from training.value.summary import summarize_transactions

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "ClvModel",
    "GammaGammaFit",
    "GammaGammaParams",
    "bgnbd_log_likelihood",
    "expected_purchases",
    "expected_purchases_new",
    "expected_spend",
    "fit_bgnbd",
    "fit_clv",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "p_alive",
    "predict_clv",
    "summarize_transactions",
]
