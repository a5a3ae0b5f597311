"""What the recommendation benchmarks print: metrics side by side, and the champion's paired gaps.

The gap of the champion to each baseline is the mean over test customers of the difference of
their NDCG@10 (same customers, same truth), with its standard error: a gap within about two
standard errors is not a difference the benchmark can show.
"""

from __future__ import annotations

import resource

import numpy as np
import pandas as pd


def print_table(results: dict[str, dict[str, float]]) -> None:
    """Metrics@10 side by side, with NDCG relative to popularity."""
    base = results["popularity"]["ndcg"]
    print(
        f"\n{'model':<26}{'NDCG@10':>9}{'R@10':>8}{'P@10':>8}{'MAP@10':>8}{'cover':>8}"
        f"{'/pop':>7}{'wall s':>8}{'CPU s':>8}"
    )
    for name, m in results.items():
        print(
            f"{name:<26}{m['ndcg']:>9.4f}{m['recall']:>8.4f}{m['precision']:>8.4f}"
            f"{m['map']:>8.4f}{m['coverage']:>8.4f}{m['ndcg'] / max(base, 1e-12):>7.2f}"
            f"{m['seconds']:>8.0f}{m['cpu']:>8.0f}"
        )


def paired_gap(mine: pd.Series, other: pd.Series) -> tuple[float, float]:
    """(mean of mine - other, its standard error) over the customers of `mine`."""
    diff = (mine - other.reindex(mine.index).fillna(0.0)).to_numpy(np.float64)
    if len(diff) < 2:
        return float(diff.mean()) if len(diff) else 0.0, float("nan")
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def print_gaps(per_user: dict[str, pd.Series]) -> None:
    """The champion's NDCG@10 minus each baseline's, paired over the test customers."""
    champion = next(name for name in per_user if name.startswith("champion"))
    for name, scores in per_user.items():
        if name != champion:
            gap, se = paired_gap(per_user[champion], scores)
            print(f"{champion} - {name}: NDCG@10 {gap:+.4f} (paired standard error {se:.4f})")


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the CLI runs)."""
    own, kids = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
