"""CDNOW benchmark: our BG/NBD + Gamma-Gamma fit next to the published parameters.

    python benchmarks/cdnow_clv.py [--cache .benchmarks-cache] [--tolerance 0.01]

The CDNOW sample (2,357 customers) ships inside the `lifetimes` wheel, which is downloaded at
run time with `pip download lifetimes==0.11.3 --no-deps` into the cache; no data is committed.
The file has no header: master id, sample id, date (YYYYMMDD), CDs bought, dollar value.
Calibration is 1997-01-01 .. 1997-09-30 (39 weeks) in weeks, and the fit runs through the
same code path as `valuechain clv fit` (the Typer command, parsed from arguments).
Published: Fader, Hardie & Lee (2005) BG/NBD; Fader & Hardie (2013) Gamma-Gamma note.
Exit status 1 when any parameter differs from the published one by more than the tolerance.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import typer

PUBLISHED = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "bgnbd_log_likelihood": -9582.4,
    "p": 6.25,
    "q": 3.74,
    "gamma": 15.44,
}
WHEEL = "lifetimes==0.11.3"
MEMBER = "lifetimes/datasets/CDNOW_sample.txt"


def cdnow_sample(cache: Path) -> pd.DataFrame:
    """The CDNOW sample transactions: customer_id, date, amount (wheel downloaded once)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", str(cache), "-q"],
            check=True,
        )
        wheels = sorted(cache.glob("[Ll]ifetimes-0.11.3-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        text = wheel.read(MEMBER).decode()
    raw = pd.read_csv(
        io.StringIO(text),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["customer_id", "date", "amount"]]


def fit_through_cli(transactions: Path, tracking_uri: str) -> dict[str, Any]:
    """Run `valuechain clv fit` in-process and return the parameters it computed."""
    import cli.value  # noqa: F401  (registers the command)
    from cli.app import app

    args = [
        "clv",
        "fit",
        "--transactions",
        str(transactions),
        "--customer-col",
        "customer_id",
        "--date-col",
        "date",
        "--amount-col",
        "amount",
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--tracking-uri",
        tracking_uri,
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        result = typer.main.get_command(app).main(args, standalone_mode=False)
    return dict(result)


Row = tuple[str, float, float, float]


def compare(ours: dict[str, Any], tolerance: float) -> tuple[list[Row], bool]:
    """Rows of (parameter, ours, published, relative difference) and whether all pass."""
    rows = []
    for name, published in PUBLISHED.items():
        value = float(ours[name])
        rows.append((name, value, published, abs(value - published) / abs(published)))
    return rows, all(rel <= tolerance for *_, rel in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".benchmarks-cache"),
        help="Where the lifetimes wheel is downloaded (not committed).",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="Largest accepted relative difference (default 1%%).",
    )
    args = parser.parse_args()
    transactions = cdnow_sample(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cdnow.csv"
        transactions.to_csv(path, index=False)
        ours = fit_through_cli(path, f"sqlite:///{tmp}/mlflow.db")
    print(
        f"CDNOW sample: {transactions['customer_id'].nunique():,} customers, "
        f"{len(transactions):,} rows; fitted on {ours['n_customers']:,} (BG/NBD), "
        f"{ours['n_customers_gamma_gamma']:,} (Gamma-Gamma), calibration to "
        f"{ours['calibration_end']}, unit {ours['time_unit']}"
    )
    print(
        f"converged: BG/NBD {ours['bgnbd_converged']}, Gamma-Gamma {ours['gamma_gamma_converged']}"
    )
    rows, ok = compare(ours, args.tolerance)
    print(f"{'parameter':<22}{'ours':>14}{'published':>14}{'rel. diff':>12}")
    for name, value, published, rel in rows:
        print(f"{name:<22}{value:>14.4f}{published:>14.4f}{rel:>11.3%}")
    print(f"all within {args.tolerance:.1%}: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
