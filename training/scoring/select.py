"""Choose the tabular model: default LightGBM, tuned LightGBM, logistic regression or a blend.

Every candidate is judged on the same folds by mean ROC-AUC of its out-of-fold predictions. A
blend adds the LightGBM and logistic log-odds with a weight w in [0, 1] (1 = LightGBM alone,
0 = logistic alone), chosen on those out-of-fold predictions; the bundle serves it as
`model.txt` + `linear.json` + weight. Because the plain candidates are themselves in the running,
the winner's validation AUC is never below the default LightGBM's or the logistic model's.

With `check` folds (small tables: a second repeated k-fold, shuffled differently) the search
and the logistic C are chosen on `folds`, and every candidate is then refitted and judged on
`check`: the best of N trials' mean on the folds that picked it is biased upwards (the
winner's curse), so the tuned model is compared with the default one where neither was chosen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata

from models.scoring.specs import FeatureSpec
from training.scoring import linear, tune
from training.scoring.split import Fold

logger = logging.getLogger(__name__)

BLEND_WEIGHTS = tuple(float(round(w, 2)) for w in np.linspace(0.0, 1.0, 21))
DEFAULT_LGBM, TUNED_LGBM, LOGISTIC = "default LightGBM", "tuned LightGBM", "logistic regression"


@dataclass
class Selection:
    """The chosen model and the validation AUC of every candidate."""

    name: str
    choice: dict[str, Any] | None  # LightGBM configuration ({} = library default); None = none
    rounds: int  # LightGBM rounds at the fold size
    weight: float  # LightGBM weight of the log-odds blend
    linear_c: float | None
    val_auc: float
    candidates: dict[str, float]
    trials: list[tune.CvResult] = field(default_factory=list)
    # The plain candidates' AUC on the search folds, when others (`check`) judged them; else {}.
    search_candidates: dict[str, float] = field(default_factory=dict)


@dataclass
class _Scored:
    name: str
    choice: dict[str, Any] | None
    rounds: int
    raw: list[np.ndarray]


def select_model(
    x: np.ndarray,
    y: np.ndarray,
    folds: list[Fold],
    specs: list[FeatureSpec],
    n_trials: int,
    *,
    check: list[Fold] | None = None,
    allow_linear: bool = True,
    threads: int = 1,
    seed: int = 0,
    max_rounds: int = tune.MAX_ROUNDS,
) -> Selection:
    """Search on `folds`, judge every candidate on `check` (or on `folds` when None) and return
    the best (ties: the simpler, listed first)."""
    cats = [j for j, s in enumerate(specs) if s.kind == "categorical"]
    data = tune.fold_data(x, y, folds, cats)
    default = tune.cross_validate({}, data, threads, seed)
    trials = tune.search(data, n_trials, threads, seed, max_rounds) if n_trials > 0 else []
    boosters = [_Scored(DEFAULT_LGBM, {}, default.best_iteration, default.raw)]
    if trials:
        best = trials[0]
        boosters.append(_Scored(TUNED_LGBM, best.choice, best.best_iteration, best.raw))
    c, lin_raw = _linear_cv(x, y, folds, specs) if allow_linear else (None, [])
    y_val = [y[f.val] for f in folds]
    searched = {b.name: _mean_auc(y_val, b.raw) for b in boosters}
    if c is not None:
        searched[LOGISTIC] = _mean_auc(y_val, lin_raw)
    if check is None:
        searched = {}
    else:
        boosters, lin_raw = _rescore(x, y, check, specs, boosters, c, threads, seed, max_rounds)
        y_val = [y[f.val] for f in check]
        logger.info("search-fold AUC: %s", searched)
    candidates = {b.name: _mean_auc(y_val, b.raw) for b in boosters}
    options: list[tuple[str, _Scored | None, float, float | None]]
    options = [(b.name, b, 1.0, None) for b in boosters]
    if c is not None:
        candidates[LOGISTIC] = _mean_auc(y_val, lin_raw)
        options.append((LOGISTIC, None, 0.0, c))
        for b in boosters:
            w, candidates[f"{b.name} + logistic blend"] = _best_weight(y_val, b.raw, lin_raw)
            options.append((f"{b.name} + logistic blend", b, w, c))
    name, booster, weight, chosen_c = max(options, key=lambda o: candidates[o[0]])
    logger.info("validation AUC by candidate: %s; chosen %s (w=%g)", candidates, name, weight)
    return Selection(
        name,
        booster.choice if booster is not None else None,
        booster.rounds if booster is not None else 0,
        weight,
        chosen_c,
        candidates[name],
        candidates,
        trials,
        searched,
    )


def _rescore(
    x: np.ndarray,
    y: np.ndarray,
    check: list[Fold],
    specs: list[FeatureSpec],
    boosters: list[_Scored],
    c: float | None,
    threads: int,
    seed: int,
    max_rounds: int,
) -> tuple[list[_Scored], list[np.ndarray]]:
    """Each LightGBM candidate (its configuration as chosen) and the logistic model at its
    chosen C, refitted on the `check` folds: their out-of-fold raw scores there. The rounds
    stay those of the search folds (the final fit's)."""
    cats = [j for j, s in enumerate(specs) if s.kind == "categorical"]
    data = tune.fold_data(x, y, check, cats)
    rescored = [
        _Scored(
            b.name,
            b.choice,
            b.rounds,
            tune.cross_validate(b.choice or {}, data, threads, seed, max_rounds).raw,
        )
        for b in boosters
    ]
    lin_raw = [] if c is None else _linear_fold_raw(x, y, check, specs, c)
    return rescored, lin_raw


def fast_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC by the rank-sum formula (ties averaged), equal to scikit-learn's `roc_auc_score`.

    The blend scan computes hundreds of AUCs; scikit-learn's input checks dominate its cost.
    """
    ranks = rankdata(score)
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _mean_auc(y_val: list[np.ndarray], raw: list[np.ndarray]) -> float:
    return float(np.mean([fast_auc(y, r) for y, r in zip(y_val, raw, strict=True)]))


def _linear_cv(
    x: np.ndarray, y: np.ndarray, folds: list[Fold], specs: list[FeatureSpec]
) -> tuple[float, list[np.ndarray]]:
    """The regularization C with the best mean fold AUC, and its fold predictions."""
    y_val = [y[f.val] for f in folds]
    best: tuple[float, float, list[np.ndarray]] | None = None
    for c in linear.C_GRID:
        raw = _linear_fold_raw(x, y, folds, specs, c)
        auc = _mean_auc(y_val, raw)
        logger.info("logistic C=%g: mean validation AUC %.4f", c, auc)
        if best is None or auc > best[1]:
            best = (c, auc, raw)
    assert best is not None
    return best[0], best[2]


def _linear_fold_raw(
    x: np.ndarray, y: np.ndarray, folds: list[Fold], specs: list[FeatureSpec], c: float
) -> list[np.ndarray]:
    """Out-of-fold log-odds of the logistic model at regularization C."""
    return [
        linear.linear_raw(linear.fit_linear(x[f.fit], y[f.fit], specs, c), specs, x[f.val])
        for f in folds
    ]


def _best_weight(
    y_val: list[np.ndarray], lgb_raw: list[np.ndarray], lin_raw: list[np.ndarray]
) -> tuple[float, float]:
    """The LightGBM blend weight (0 to 1 inclusive) with the best mean fold AUC, and that AUC."""
    scores = {
        w: _mean_auc(y_val, [w * a + (1 - w) * b for a, b in zip(lgb_raw, lin_raw, strict=True)])
        for w in BLEND_WEIGHTS
    }
    best = max(scores, key=lambda w: scores[w])
    return best, scores[best]
