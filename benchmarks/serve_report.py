"""The tables `serve_wrk.py` prints: endpoints with ratios, the issue-13 targets, batch costs."""

from __future__ import annotations

from serve_targets import Target
from wrk_runner import Cell

LIMIT_ROWS = {"topk": "bare: Redis GET + numpy top-k", "lgbm": "bare: Redis GET + LightGBM"}
MLFLOW_ROW = "mlflow models serve churn"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def print_table(rows: list[Target], cells: dict[tuple[str, int], Cell], conns: list[int]) -> None:
    """req/s, p50, p99, errors and the ratios to the bare limit and mlflow."""
    print(
        f"\n| {'endpoint':<36} | c | conns per worker | req/s | p50 ms | p99 ms | errors "
        "| x limit req/s | x limit p99 | x mlflow req/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in conns:
        mlflow = cells[(f"{MLFLOW_ROW} 0", c)]
        for t in rows:
            cell = cells[(f"{t.name} 0", c)]
            lim = cells[(f"{LIMIT_ROWS[t.limit]} 0", c)] if t.limit else None
            x_rps = _ratio(cell.rps, lim.rps) if lim else "-"
            x_p99 = _ratio(cell.p99_ms, lim.p99_ms) if lim else "-"
            x_ml = _ratio(cell.rps, mlflow.rps) if t.name == "valuechain churn" else "-"
            print(
                f"| {t.name:<36} | {c} | {'/'.join(map(str, cell.split)) or '?'} "
                f"| {cell.rps:,.0f} | {cell.p50_ms:.1f} | {cell.p99_ms:.1f} "
                f"| {cell.errors} | {x_rps} | {x_p99} | {x_ml} |"
            )


def print_checks(cells: dict[tuple[str, int], Cell], c: int) -> None:
    """The issue's "Done when" ratios at `c` connections, each met or not."""
    churn, recs = cells[("valuechain churn 0", c)], cells[("valuechain recommendations 0", c)]
    lgbm, topk = cells[(f"{LIMIT_ROWS['lgbm']} 0", c)], cells[(f"{LIMIT_ROWS['topk']} 0", c)]
    mlflow = cells[(f"{MLFLOW_ROW} 0", c)]
    checks = [
        ("churn req/s >= 0.6x the limit's", churn.rps / lgbm.rps, 0.6, True),
        ("recommendations req/s >= 0.5x the limit's", recs.rps / topk.rps, 0.5, True),
        ("churn p99 <= 1.5x the limit's", churn.p99_ms / lgbm.p99_ms, 1.5, False),
        ("recommendations p99 <= 2x the limit's", recs.p99_ms / topk.p99_ms, 2.0, False),
        ("churn req/s >= 10x mlflow's", churn.rps / mlflow.rps, 10.0, True),
    ]
    print(f"\nIssue 13 targets at {c} connections:")
    for text, value, bound, at_least in checks:
        met = value >= bound if at_least else value <= bound
        print(f"  {text:<44} {value:6.2f}x  {'met' if met else 'NOT met'}")


def print_batches(rows: list[Target], cells: dict[tuple[str, int], Cell], conns: list[int]) -> None:
    """Per-entity cost of the batch endpoints: p50 / batch at 1 connection, entities/s at most."""
    lo, hi = min(conns), max(conns)
    print(
        f"\n| batch endpoint | batch | p50 ms (c={lo}) | ms per entity (c={lo}) "
        f"| req/s (c={hi}) | entities/s (c={hi}) | ms per entity (c={hi}) | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for t in rows:
        one, many = cells[(f"{t.name} {t.batch}", lo)], cells[(f"{t.name} {t.batch}", hi)]
        per_s = many.rps * t.batch
        print(
            f"| {t.name} | {t.batch} | {one.p50_ms:.1f} | {one.p50_ms / t.batch:.3f} "
            f"| {many.rps:,.0f} | {per_s:,.0f} | {1e3 / per_s:.3f} | {one.errors + many.errors} |"
        )
