"""Benchmark the churn scorer on IBM Telco churn (modeldata::wa_churn) against two baselines.

A fixed 80/20 stratified split (seed 0), the champion trained and scored through the CLI beside
logistic regression and a default LightGBM on the same split; see `benchmarks/tabular.py`.

Usage: python -m benchmarks.telco_churn [--cache DIR] [--trials N]
"""

from __future__ import annotations

import sys

from benchmarks.tabular import main

if __name__ == "__main__":
    main(["--dataset", "telco", *sys.argv[1:]])
