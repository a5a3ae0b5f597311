"""Metrics and plots of a probabilistic binary scorer.

Metrics: ROC-AUC, PR-AUC (average precision), log-loss, Brier, lift in the top decile.
Plots (matplotlib, Agg): ROC, precision-recall, reliability, cumulative gains, importance.
Figures are built with `matplotlib.figure.Figure` directly (no pyplot state, no GUI backend;
saving renders with Agg).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)


def lift_at(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate among the top `fraction` by score over the overall positive rate."""
    k = max(1, round(len(y) * fraction))
    top = np.argsort(-p, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The standard metric set of calibrated probabilities `p` against 0/1 labels `y`."""
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "lift_top_decile": lift_at(y, p, 0.1),
        "positive_rate": float(y.mean()),
    }


def plots(y: np.ndarray, p: np.ndarray, importance: dict[str, float]) -> dict[str, Figure]:
    """Named figures: roc, pr, reliability, gains, importance."""
    return {
        "roc": _roc(y, p),
        "pr": _pr(y, p),
        "reliability": _reliability(y, p),
        "gains": _gains(y, p),
        "importance": _importance(importance),
    }


def _axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig, ax


def _roc(y: np.ndarray, p: np.ndarray) -> Figure:
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = _axes(
        f"ROC (AUC {roc_auc_score(y, p):.3f})", "false positive rate", "true positive rate"
    )
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    return fig


def _pr(y: np.ndarray, p: np.ndarray) -> Figure:
    precision, recall, _ = precision_recall_curve(y, p)
    fig, ax = _axes(
        f"Precision-recall (AP {average_precision_score(y, p):.3f})", "recall", "precision"
    )
    ax.plot(recall, precision)
    ax.axhline(y.mean(), linestyle="--", color="grey")
    return fig


def _reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> Figure:
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(0, len(edges) - 2))
    pred = [p[idx == b].mean() for b in np.unique(idx)]
    obs = [y[idx == b].mean() for b in np.unique(idx)]
    fig, ax = _axes("Reliability", "mean predicted probability", "observed rate")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.plot(pred, obs, marker="o")
    return fig


def _gains(y: np.ndarray, p: np.ndarray) -> Figure:
    order = np.argsort(-p, kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(y[order]) / max(1, y.sum())])
    share = np.linspace(0, 1, len(captured))
    fig, ax = _axes(
        f"Cumulative gains (top-decile lift {lift_at(y, p):.2f})",
        "share of entities contacted",
        "share of positives captured",
    )
    ax.plot(share, captured)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    return fig


def _importance(importance: dict[str, float], top: int = 20) -> Figure:
    items = sorted(importance.items(), key=lambda kv: kv[1])[-top:]
    fig = Figure(figsize=(6, max(2.5, 0.3 * len(items) + 1)), dpi=100)
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set(title="Feature importance (mean |contribution|)", xlabel="log-odds")
    fig.tight_layout()
    return fig
